"""Results as data: records in results/, the docs pages made from them, and the tables of
a run's own output (a notebook's rate_distortion.json or sweep.json, a release manifest)."""

import json
import re
import time

import pytest

import results
from mnist_compression.study.sweep import rd_record


def test_a_runs_records_make_the_tutorials_and_the_studys_tables():
    measured = dict(information_bits=40.33, string_bits=42.88, mnc_bytes_per_digit=6.364,
                    shorter_than_information=0.15, longest_string_bits=96, mae=0.0351,
                    psnr=18.94, recognised=0.9521)
    records = [rd_record(2000, dict(val_rate=[50.0, 40.32], val_distortion=[0.04, 0.0368]),
                         measured, 601.0)]
    assert ("| 2000 | 40.32 | 0.0368 | 41.21 / 0.0356 | 42.88 | 6.36 | 95.2% |"
            in results.tutorial_table(records))
    assert "| 2000 | 40.33 | 42.88 | 6.36 | 0.035 | 18.9 | 95.2% |" in results.study_table(records)


def test_the_pretrained_table_is_printed_from_the_manifest():
    manifest = dict(release="v9", files=[
        dict(kind="model", file="lmbda300.npz", lmbda=300.0, bytes=10_241_386, sha256="ab" * 32,
             information_bits=8.712, string_bits=11.2, mae=0.07512, recognised=0.7014),
        dict(kind="variable-rate model", file="variable_rate.npz", lmbda=2000.0,
             levels=[50.0, 10000.0], bytes=10_292_806, sha256="ef" * 32, information_bits=47.77,
             string_bits=50.35, mae=0.0305, recognised=0.954),
        dict(kind="model", file="same_recipe_lmbda700.npz", lmbda=700.0, recipe="variable-rate",
             bytes=10_241_386, sha256="12" * 32, information_bits=20.5, string_bits=23.0,
             mae=0.05, recognised=0.9),
        dict(kind="variable-rate model", file="variable_rate_seed1.npz", lmbda=2000.0, seed=1,
             levels=[50.0, 10000.0], bytes=10_292_806, sha256="34" * 32, information_bits=47.0,
             string_bits=50.0, mae=0.03, recognised=0.95),
        dict(kind="hyperprior model", file="hyperprior_lmbda300.npz", lmbda=300.0,
             settings=dict(hyper_latent_dims=8), bytes=10_300_000, sha256="56" * 32,
             information_bits=8.5, string_bits=11.0, mae=0.0757, recognised=0.70),
        dict(kind="classifier", file="classifier.npz", bytes=815_810, sha256="cd" * 32,
             accuracy=0.9741)])
    text = results.manifest_table(manifest)
    lines = text.splitlines()
    assert lines[2] == ("| classifier | `classifier.npz` | 0.8 MB | `cdcdcdcdcdcd` | "
                        "accuracy 97.4% on the test digits |  |  |  |")
    assert lines[3] == ("| 300 | `lmbda300.npz` | 10.2 MB | `abababababab` | 8.71 | 11.20 | "
                        "0.0751 | 70.1% |")
    assert lines[4] == ("| 50–10000, one variable-rate model (at 2000, seed 0) | "
                        "`variable_rate.npz` | 10.3 MB | `efefefefefef` | 47.77 | 50.35 | 0.0305 | "
                        "95.4% |")
    assert lines[5].startswith("| 50–10000, one variable-rate model (at 2000, seed 1) | "
                               "`variable_rate_seed1.npz` |")
    assert lines[6].startswith("| 700, variable-rate recipe | `same_recipe_lmbda700.npz` |")
    assert lines[7] == ("| 300, hyperprior (8 side latents) | `hyperprior_lmbda300.npz` | "
                        "10.3 MB | `565656565656` | 8.50 | 11.00 | 0.0757 | 70.0% |")


def test_notebook_9s_side_information_is_printed_with_its_losses():
    row = dict(lmbda=2000.0, information_bits=40.0, string_bits=42.5, mae=0.035)
    data = dict(factorized=[row], hyperprior=[dict(row, information_bits=39.0, side_bits=1.25,
                                                   mae=0.034)],
                bd_rates=dict(psnr=dict(bd_rate=-3.04, low=13.5, high=22.8),
                              mae=dict(bd_rate=-2.5, low=0.0207, high=0.0761)),
                class_side_information=dict(shared=40.64, refitted=40.5, per_class=39.38,
                                            class_bits=3.32),
                example_lambda=2000.0)
    lines = results.side_information_table(data).splitlines()
    assert lines[2] == ("| 2000 | 40.00 | 39.00 (1.25) | 42.50 | 42.50 | 0.0350 | 0.0340 | "
                        "110.0 | 107.0 |")
    assert lines[-1].startswith("**BD-rate of the hyperprior against the factorized models: "
                                "-3.0% along PSNR** (13.5–22.8 dB) and -2.5% along −MAE")
    assert lines[-1].endswith("39.38 under a prior per class, plus 3.32 bits for the class: "
                              "42.70 in all.")


def test_notebook_8s_bd_rates_are_printed_as_written():
    rows = [dict(test="one, seed 0", anchor="original eight", psnr=7.26, mae=-0.04, reason=None),
            dict(test="one, seed 1", anchor="same-recipe eight", psnr=None, mae=None,
                 reason="the curves share no quality range")]
    lines = results.bd_rates_table(rows).splitlines()
    assert lines[0] == "| test | anchor | BD-rate along PSNR | along −MAE |"
    assert lines[2] == "| one, seed 0 | original eight | +7.3% | -0.0% |"
    assert lines[3] == "| one, seed 1 | same-recipe eight | n/a | n/a |"


def test_the_committed_pages_are_what_the_records_make():
    pages = results.render(results.load_records())
    for page, text in pages.items():
        assert (results.REPO / "docs" / f"{page}.md").read_text(encoding="utf-8") == text, (
            f"docs/{page}.md differs from results/: run `python tools/results.py render`")


def test_every_record_names_its_command_date_machine_and_place():
    records = results.load_records()
    assert {r["page"] for r in records} == set(results.PAGES)
    for r in records:
        assert r["command"] and r["machine"] and r["title"], r["name"]
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", r["date"]), r["name"]
        assert r["kind"] in ("tutorial", "study", "release", "table", "bd_rates",
                             "side_information"), r["name"]
        orders = [o["order"] for o in records if o["page"] == r["page"]]
        assert orders.count(r["order"]) == 1, r["name"]


def test_recording_a_run_replaces_data_and_stamp_and_keeps_the_text(tmp_path):
    (tmp_path / "tutorial.json").write_text(json.dumps(dict(
        page="results", order=1, kind="tutorial", title="T", before="Text.", command="old",
        date="2000-01-01", machine="old", source="Transcribed.", data=[])))
    measured = dict(information_bits=8.7, string_bits=11.2, mnc_bytes_per_digit=2.4,
                    shorter_than_information=0.15, longest_string_bits=40, mae=0.075, psnr=13.6,
                    recognised=0.70)
    run = [rd_record(300, dict(val_rate=[8.73], val_distortion=[0.0759]), measured, 600.0)]
    (tmp_path / "rate_distortion.json").write_text(json.dumps(run))
    path = results.record("tutorial", tmp_path / "rate_distortion.json", "make tutorial",
                          folder=tmp_path)
    written = json.loads(path.read_text())
    assert written["data"] == run and written["command"] == "make tutorial"
    assert written["before"] == "Text." and "source" not in written
    assert written["date"] == time.strftime("%Y-%m-%d") and "Python" in written["machine"]
    section = results.section(dict(written, name="tutorial"))
    assert section.startswith("## T\n\nText.\n\n| λ |") and "| 300 | 8.73 | 0.0759 |" in section


def test_a_record_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="No record .*nothing.json: records are created by hand"):
        results.record("nothing", tmp_path / "x.json", "make", folder=tmp_path)


def test_a_record_without_data_stops_the_render_with_what_to_do():
    record = dict(name="pending", kind="table", data=None, title="T")
    with pytest.raises(SystemExit, match=r"results/pending.json holds no data yet: run its "
                                         r"command, then `python tools/results.py record pending"):
        results.table_of(record)
