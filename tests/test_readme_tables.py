"""README.md's result tables are printed from the records a full run writes."""

import json

import readme_tables

from mnist_compression.study.sweep import rd_record


def test_the_readme_tables_are_printed_from_the_records(tmp_path, capsys):
    measured = dict(information_bits=40.33, string_bits=42.88, mnc_bytes_per_digit=6.364,
                    shorter_than_information=0.15, longest_string_bits=96, mae=0.0351,
                    psnr=18.94, recognised=0.9521)
    records = [rd_record(2000, dict(val_rate=[50.0, 40.32], val_distortion=[0.04, 0.0368]),
                         measured, 601.0)]
    (tmp_path / "rate_distortion.json").write_text(json.dumps(records))
    (tmp_path / "sweep.json").write_text(json.dumps(records))
    text = readme_tables.main([str(tmp_path)])
    assert "| 2000 | 40.32 | 0.0368 | 41.21 / 0.0356 | 42.88 | 6.36 | 95.2% |" in text
    assert "| 2000 | 40.33 | 42.88 | 6.36 | 0.035 | 18.9 | 95.2% |" in text
    assert capsys.readouterr().out.strip() == text


def test_a_folder_without_records_says_so(tmp_path, capsys):
    assert readme_tables.main([str(tmp_path)]) == ""
    assert "No rate_distortion.json or sweep.json" in capsys.readouterr().out


def test_the_pretrained_table_is_printed_from_the_manifest(tmp_path, capsys):
    manifest = dict(release="v9", files=[
        dict(kind="model", file="lmbda300.npz", lmbda=300.0, bytes=10_241_386, sha256="ab" * 32,
             information_bits=8.712, string_bits=11.2, mae=0.07512, recognised=0.7014),
        dict(kind="variable-rate model", file="variable_rate.npz", lmbda=2000.0,
             levels=[50.0, 10000.0], bytes=10_292_806, sha256="ef" * 32, information_bits=47.77,
             string_bits=50.35, mae=0.0305, recognised=0.954),
        dict(kind="classifier", file="classifier.npz", bytes=815_810, sha256="cd" * 32,
             accuracy=0.9741)])
    (tmp_path / "pretrained.json").write_text(json.dumps(manifest))
    text = readme_tables.main(["--manifest", str(tmp_path / "pretrained.json")])
    lines = text.splitlines()
    assert lines[2] == ("| classifier | `classifier.npz` | 0.8 MB | `cdcdcdcdcdcd` | "
                        "accuracy 97.4% on the test digits |  |  |  |")
    assert lines[3] == ("| 300 | `lmbda300.npz` | 10.2 MB | `abababababab` | 8.71 | 11.20 | "
                        "0.0751 | 70.1% |")
    assert lines[4] == ("| 50–10000, one variable-rate model (at 2000) | `variable_rate.npz` | "
                        "10.3 MB | `efefefefefef` | 47.77 | 50.35 | 0.0305 | 95.4% |")
    assert capsys.readouterr().out.strip() == text


def test_an_empty_manifest_says_nothing_is_published(tmp_path, capsys):
    (tmp_path / "pretrained.json").write_text(json.dumps(dict(release="v9", files=[])))
    assert readme_tables.main(["--manifest", str(tmp_path / "pretrained.json")]) == ""
    assert capsys.readouterr().out == "The manifest of v9 lists no files (nothing published).\n"
