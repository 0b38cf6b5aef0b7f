"""What `compress` reads: 16-bit and colour PNGs, folders and bool arrays are read exactly,
told in a note, or refused with a one-line reason; never changed without a word."""

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import synthetic_digits
from PIL import Image

from mnist_compression.cli import digit_files
from mnist_compression.cli.codec import main
from mnist_compression.cli.digit_files import read_digit_inputs
from mnist_compression.model.files import save_model


@pytest.fixture(scope="module")
def model_file(small_trainer, tmp_path_factory):
    return save_model(small_trainer, tmp_path_factory.mktemp("model") / "model.npz")


@pytest.fixture
def digit():
    """One digit-like uint8 image [28, 28]."""
    return synthetic_digits(1, seed=5)[0, ..., 0]


def _compress(capsys, model_file, tmp_path, *inputs):
    status = main(["compress", "--model", str(model_file), *map(str, inputs),
                   "-o", str(tmp_path / "out.mnc"), "--quiet"])
    out, err = capsys.readouterr()
    return status, out, err


def _assert_refused(status, out, err, path, reason):
    assert status == 2 and out == "", (status, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert str(path) in err and reason in err, err


def _sixteen_bit_values():
    """16-bit grey levels with the edges, the values next to each rounding step and noise."""
    rng = np.random.default_rng(1)
    steps = np.arange(256) * 257
    special = np.concatenate([[0, 1, 128, 129, 65534, 65535], steps[1:-1] + 128,
                              steps[1:-1] + 129, steps[1:-1] - 128])
    values = np.concatenate([special, rng.integers(0, 65536, 784 - len(special))])
    return values.reshape(28, 28)


def _save_16_bit(values, path, mode="I;16"):
    """A 16-bit grey PNG (Pillow opens every one as I;16)."""
    Image.fromarray(values.astype(np.uint16)).save(path)
    assert Image.open(path).mode == mode
    return path


def test_16_bit_grey_pngs_are_scaled_not_clipped(tmp_path):
    values = _sixteen_bit_values()
    notes = []
    pixels = read_digit_inputs([_save_16_bit(values, tmp_path / "deep.png")], notes)
    expected = np.round(values * 255 / 65535).astype(np.uint8)
    assert pixels.dtype == np.uint8 and pixels.shape == (1, 28, 28, 1)
    np.testing.assert_array_equal(pixels[0, ..., 0], expected)
    assert notes == ["note: 1 16-bit PNG file scaled to 8 bits (1 grey: round(v * 255 / 65535))."]


@pytest.mark.parametrize("mode", ["I;16B", "I"])
def test_other_16_bit_grey_modes_are_scaled_alike(tmp_path, mode):
    """Pillow writes no PNG that opens in these modes, so the image is handed over directly."""
    values = _sixteen_bit_values()
    image = (Image.frombytes(mode, (28, 28), values.astype(">u2").tobytes()) if mode == "I;16B"
             else Image.fromarray(values.astype(np.int32), mode="I"))
    pixels = digit_files._grey_pixels(image, tmp_path / "x.png", digit_files._InputLog(), False)
    np.testing.assert_array_equal(pixels, np.round(values * 255 / 65535).astype(np.uint8))


def test_other_formats_named_png_and_animations_are_refused(model_file, tmp_path, capsys, digit):
    Image.fromarray(digit).save(tmp_path / "photo.png", format="JPEG")
    status, out, err = _compress(capsys, model_file, tmp_path, tmp_path / "photo.png")
    _assert_refused(status, out, err, tmp_path / "photo.png", "a JPEG image named .png")
    frames = [Image.fromarray(digit), Image.fromarray(255 - digit)]
    frames[0].save(tmp_path / "moving.png", save_all=True, append_images=frames[1:])
    status, out, err = _compress(capsys, model_file, tmp_path, tmp_path / "moving.png")
    _assert_refused(status, out, err, tmp_path / "moving.png", "an animated PNG of 2 frames")


def test_16_bit_note_is_one_line_per_command(model_file, tmp_path, capsys, digit):
    (tmp_path / "deep").mkdir()
    for i in range(3):
        _save_16_bit(digit.astype(np.int64) * 257, tmp_path / "deep" / f"{i}.png", "I;16")
    status, out, err = _compress(capsys, model_file, tmp_path, tmp_path / "deep")
    assert status == 0 and out.startswith("Wrote ") and out.count("\n") == 1
    assert err == "note: 3 16-bit PNG files scaled to 8 bits (3 grey: round(v * 255 / 65535)).\n"
    np.testing.assert_array_equal(read_digit_inputs([tmp_path / "deep"], [])[:, ..., 0],
                                  [digit] * 3)


def test_16_bit_png_holding_8_bit_values_is_called_out(tmp_path, digit):
    path = _save_16_bit(digit, tmp_path / "faint.png", "I;16")
    notes = []
    assert read_digit_inputs([path], notes).max() <= 1
    assert len(notes) == 1 and f"{path} held only values up to 255" in notes[0]


def _png_16_bit_rgb(path, rgb):
    """A 16-bit RGB PNG, written by hand (Pillow writes none)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in rgb)
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def test_16_bit_grey_stored_as_rgb_is_read_with_a_note(tmp_path, digit):
    values = digit.astype(np.int64) * 257
    path = _png_16_bit_rgb(tmp_path / "rgb16.png", np.repeat(values[..., None], 3, axis=-1))
    notes = []
    np.testing.assert_array_equal(read_digit_inputs([path], notes)[0, ..., 0], digit)
    assert notes == [
        "note: 1 16-bit PNG file scaled to 8 bits (1 colour: by the high byte, as Pillow "
        "reads them).",
        "note: 1 PNG file stored as RGB (1) held only opaque grey pixels and was read as one "
        "grey channel."]


def _grey_as(digit, mode):
    """The digit in a colour mode, every pixel still opaque grey."""
    if mode == "P":
        image = Image.fromarray(digit).convert("P")
        image.putpalette(np.repeat(np.arange(256, dtype=np.uint8), 3).tobytes())
        return image
    return Image.fromarray(digit).convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "LA", "P"])
def test_opaque_grey_stored_as_colour_is_read_with_a_note(tmp_path, digit, mode):
    path = tmp_path / "grey.png"
    _grey_as(digit, mode).save(path)
    assert Image.open(path).mode == mode
    notes = []
    np.testing.assert_array_equal(read_digit_inputs([path], notes)[0, ..., 0], digit)
    assert notes == [f"note: 1 PNG file stored as {mode} (1) held only opaque grey pixels and "
                     f"was read as one grey channel."]


def _colourful(digit, mode):
    """The digit with a red stroke or with transparency, as the case needs."""
    if mode == "P":
        image = Image.fromarray(digit).convert("P")
        palette = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
        palette[255] = (255, 0, 0)
        image.putpalette(palette.tobytes())
        return image, {}
    if mode in ("RGB", "RGBA"):
        rgb = np.repeat(digit[..., None], 3, axis=-1)
        rgb[10, 5:9] = (200, 30, 30)
        return Image.fromarray(rgb).convert(mode), {}
    if mode == "transparent RGBA":
        rgba = np.dstack([np.full((28, 28, 3), 255, np.uint8), digit])  # white on transparent
        return Image.fromarray(rgba, "RGBA"), {}
    if mode == "transparent LA":
        return Image.fromarray(np.dstack([digit, digit])).convert("LA"), {}
    return Image.fromarray(digit), {"transparency": 0}  # L with a transparent grey level


@pytest.mark.parametrize("mode, reason", [
    ("RGB", "4 of 784 pixels are in colour (RGB image)"),
    ("RGBA", "4 of 784 pixels are in colour (RGBA image)"),
    ("P", "pixels are in colour (P image)"),
    ("transparent RGBA", "pixels are not fully opaque (RGBA image with transparency)"),
    ("transparent LA", "pixels are not fully opaque (LA image with transparency)"),
    ("transparent L", "pixels are not fully opaque (L image with transparency)"),
])
def test_colour_and_transparency_are_refused(model_file, tmp_path, capsys, digit, mode, reason):
    image, options = _colourful(digit, mode)
    path = tmp_path / "colour.png"
    image.save(path, **options)
    _assert_refused(*_compress(capsys, model_file, tmp_path, path), path, reason)
    assert not (tmp_path / "out.mnc").exists()


def test_folder_reads_png_in_any_case_sorted_and_notes_what_it_skipped(
        model_file, tmp_path, capsys):
    digits = synthetic_digits(3, seed=9)[..., 0]
    folder = tmp_path / "digits"
    folder.mkdir()
    for name, digit in zip(["b.PNG", "a.png", "c.Png"], digits):
        Image.fromarray(digit).save(folder / name)
    for name in ["readme.txt", "x.jpg", "z.npy", "y.gif"]:
        (folder / name).write_bytes(b"not a digit")
    (folder / "sub").mkdir()
    (folder / ".DS_Store").write_bytes(b"hidden")
    (folder / "._a.png").write_bytes(b"macOS resource fork")
    notes = []
    read = read_digit_inputs([folder], notes)
    np.testing.assert_array_equal(read[..., 0], digits[[1, 0, 2]])  # a.png, b.PNG, c.Png
    assert notes == [f"note: skipped 5 entries of input folders that are not PNG files: "
                     f"{folder / 'readme.txt'}, {folder / 'sub'}/, {folder / 'x.jpg'} and 2 "
                     f"more."]
    status, out, err = _compress(capsys, model_file, tmp_path, folder)
    assert status == 0 and "3 digits in" in out and err == notes[0] + "\n"


def test_uppercase_png_named_directly_is_read(tmp_path, digit):
    Image.fromarray(digit).save(tmp_path / "d.PNG")
    notes = []
    np.testing.assert_array_equal(read_digit_inputs([tmp_path / "d.PNG"], notes)[0, ..., 0],
                                  digit)
    assert notes == []


def test_folder_without_pngs_names_what_it_holds(model_file, tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "digits.jpg").write_bytes(b"jpeg")
    _assert_refused(*_compress(capsys, model_file, tmp_path, folder), folder,
                    f"is a folder without PNG files (it holds {folder / 'digits.jpg'})")


def test_bool_npy_is_refused_in_one_line(model_file, tmp_path, capsys):
    path = tmp_path / "mask.npy"
    np.save(path, synthetic_digits(2) > 127)
    _assert_refused(*_compress(capsys, model_file, tmp_path, path), path,
                    "got dtype bool (a bool array is a mask, not grey levels")


def test_plain_8_bit_inputs_give_no_notes(model_file, tmp_path, capsys):
    digits = synthetic_digits(2, seed=4)
    np.save(tmp_path / "d.npy", digits)
    Image.fromarray(digits[0, ..., 0]).save(tmp_path / "d.png")
    Image.fromarray(digits[1, ..., 0] > 127).save(tmp_path / "bilevel.png")  # mode 1: 0 or 255
    status, out, err = _compress(capsys, model_file, tmp_path, tmp_path / "d.npy",
                                 tmp_path / "d.png", tmp_path / "bilevel.png")
    assert status == 0 and "4 digits in" in out and err == ""
    read = read_digit_inputs([tmp_path / "bilevel.png"], [])
    np.testing.assert_array_equal(read[0, ..., 0], np.where(digits[1, ..., 0] > 127, 255, 0))


@pytest.mark.parametrize("count", [9999999999, 10**30])
def test_a_npy_header_claiming_a_huge_array_is_refused(model_file, tmp_path, capsys, count):
    path = tmp_path / "huge.npy"
    header = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({count}, 28, 28), }}"
    header += " " * (63 - len(header) % 64) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                     + header.encode() + bytes(100))
    status, out, err = _compress(capsys, model_file, tmp_path, path)
    _assert_refused(status, out, err, path, "not a readable .npy array")


def test_decoded_pngs_replace_links_in_the_folder_instead_of_following_them(
        model_file, tmp_path, capsys, digit):
    np.save(tmp_path / "d.npy", np.stack([digit] * 2)[..., None])
    assert main(["compress", "--model", str(model_file), str(tmp_path / "d.npy"), "-o",
                 str(tmp_path / "d.mnc"), "--quiet"]) == 0
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / "digit_00000.png").symlink_to(precious)
    argv = ["decompress", "--model", str(model_file), str(tmp_path / "d.mnc"), "-o", str(out)]
    assert main(argv + ["--quiet"]) == 2  # the link counts as an existing file
    assert main(argv + ["--quiet", "--force"]) == 0
    assert precious.read_text() == "keep" and not (out / "digit_00000.png").is_symlink()
    capsys.readouterr()


@pytest.mark.parametrize("grid", ["x.npy", "outs/../x.npy", "./x.npy", "link.npy"])
def test_grid_and_output_must_differ(model_file, tmp_path, capsys, digit, grid, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outs").mkdir()
    (tmp_path / "link.npy").symlink_to(tmp_path / "x.npy")
    np.save(tmp_path / "d.npy", np.stack([digit] * 2)[..., None])
    assert main(["compress", "--model", str(model_file), "d.npy", "-o", "d.mnc", "--quiet"]) == 0
    (tmp_path / "x.npy").write_bytes(b"precious")
    status = main(["decompress", "--model", str(model_file), "d.mnc", "-o", "x.npy",
                   "--grid", grid, "--force", "--quiet"])
    assert status == 2 and "--grid and -o name the same file" in capsys.readouterr().err
    assert (tmp_path / "x.npy").read_bytes() == b"precious"


def test_export_reports_bad_data_in_one_line(tmp_path, capsys):
    status = main(["export", "--epochs", "1", "--data-dir", str(tmp_path / "nowhere"),
                   "-o", str(tmp_path / "m.npz")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "MNIST folder" in err


@pytest.mark.parametrize("target, reason", [
    ("folder", "is a folder; name a file"),
    ("/proc/version", "Cannot write /proc/version"),
    ("/dev/null", "is not a regular file"),
])
def test_outputs_that_cannot_be_written_are_refused_before_any_work(
        model_file, tmp_path, capsys, digit, target, reason, monkeypatch):
    from mnist_compression.codec import codecs

    monkeypatch.setattr(codecs, "compress_to_file", lambda *a, **k: pytest.fail("did the work"))
    (tmp_path / "folder").mkdir()
    np.save(tmp_path / "d.npy", np.stack([digit] * 2)[..., None])
    output = tmp_path / target if target == "folder" else Path(target)
    status = main(["compress", "--model", str(model_file), str(tmp_path / "d.npy"), "-o",
                   str(output), "--force", "--quiet"])
    _assert_refused(status, *capsys.readouterr(), output, reason)


def test_decompress_into_an_existing_file_that_is_not_npy_says_so(model_file, tmp_path, capsys,
                                                                  digit):
    np.save(tmp_path / "d.npy", np.stack([digit] * 2)[..., None])
    assert main(["compress", "--model", str(model_file), str(tmp_path / "d.npy"), "-o",
                 str(tmp_path / "d.mnc"), "--quiet"]) == 0
    capsys.readouterr()
    (tmp_path / "out.txt").write_text("keep")
    status = main(["decompress", "--model", str(model_file), str(tmp_path / "d.mnc"), "-o",
                   str(tmp_path / "out.txt"), "--force", "--quiet"])
    _assert_refused(status, *capsys.readouterr(), tmp_path / "out.txt",
                    "exists and is not a folder; name a .npy file or a folder")
    assert (tmp_path / "out.txt").read_text() == "keep"


def test_info_on_a_device_or_pipe_says_what_it_is(tmp_path, capsys):
    import os

    os.mkfifo(tmp_path / "pipe")
    for path in ("/dev/zero", tmp_path / "pipe"):
        status = main(["info", str(path)])
        _assert_refused(status, *capsys.readouterr(), path, "is not a regular file")


def test_outputs_may_not_name_an_input_or_the_digits_folder(model_file, tmp_path, capsys, digit,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("d.npy", np.stack([digit] * 3)[..., None])
    assert main(["compress", "--model", str(model_file), "d.npy", "-o", "d.mnc", "--quiet"]) == 0
    capsys.readouterr()
    kept = {name: Path(name).read_bytes() for name in ("d.npy", "d.mnc")}
    for argv, reason in (
            (["compress", "--model", str(model_file), "d.npy", "-o", "d.npy"], "is an input"),
            (["compress", "--model", str(model_file), "d.npy", "-o", str(model_file)],
             "is an input"),
            (["decompress", "--model", str(model_file), "d.mnc", "-o", "x.npy", "--grid",
              "d.mnc"], "is an input"),
            (["decompress", "--model", str(model_file), "d.mnc", "-o", "outs", "--grid",
              "outs/digit_00001.png"], "lies in the folder -o fills")):
        assert main(argv + ["--force", "--quiet"]) == 2
        assert reason in capsys.readouterr().err
    assert {name: Path(name).read_bytes() for name in kept} == kept
    assert model_file.stat().st_size > 1000


def test_a_png_folder_is_checked_for_every_digit_before_decoding(model_file, tmp_path, capsys,
                                                                 digit, monkeypatch):
    from mnist_compression.codec import codecs

    monkeypatch.chdir(tmp_path)
    np.save("d.npy", np.stack([digit] * 3)[..., None])
    assert main(["compress", "--model", str(model_file), "d.npy", "-o", "d.mnc", "--quiet"]) == 0
    Path("outs").mkdir()
    Path("outs/digit_00002.png").write_bytes(b"keep")
    monkeypatch.setattr(codecs, "decompress_file", lambda *a, **k: pytest.fail("decoded first"))
    assert main(["decompress", "--model", str(model_file), "d.mnc", "-o", "outs"]) == 2
    assert "digit_00002.png already exists" in capsys.readouterr().err
