"""Photo renditions: orientation, metadata stripping, colour, odd pixel formats, ladder, bad input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from media_pipeline.errors import MediaError
from media_pipeline.images import ImageParams, ladder, process_image, read_size

SMALL = ImageParams(widths=(40, 80, 160))


def _all_outputs(out_dir: Path) -> list[Path]:
    return sorted(p for p in out_dir.iterdir() if p.is_file())


def _metadata_free(path: Path) -> None:
    """No EXIF, GPS, XMP, comment, text chunk or ICC profile in the file."""
    raw = path.read_bytes()
    for marker in (b"Exif", b"GPS", b"http://ns.adobe.com/xap", b"XML:com.adobe.xmp", b"Canon", b"secret",
                   b"ICC_PROFILE", b"iCCP", b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert marker not in raw, (path.name, marker)
    with Image.open(path) as im:
        assert not im.getexif(), path.name
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Description"):
            assert key not in im.info, (path.name, key)


# ---------------------------------------------------------------- ladder and naming

def test_ladder_never_enlarges_and_includes_narrower_source():
    assert ladder(4000, (480, 960, 1600)) == [480, 960, 1600]
    assert ladder(1600, (480, 960, 1600)) == [480, 960, 1600]
    assert ladder(700, (480, 960, 1600)) == [480, 700]
    assert ladder(300, (480, 960, 1600)) == [300]


def test_jpeg_gets_every_width_in_jpeg_and_webp_with_known_sizes(tmp_path):
    src = tmp_path / "photo.jpg"
    Image.new("RGB", (400, 300), (200, 30, 30)).save(src, quality=90)
    out = process_image(src, tmp_path / "out", ImageParams(widths=(100, 200, 800)))
    assert (out.width, out.height, out.format, out.has_alpha) == (400, 300, "jpeg", False)
    assert [(r.file, r.width, r.height) for r in out.fallback] == [
        ("photo-100.jpg", 100, 75), ("photo-200.jpg", 200, 150), ("photo-400.jpg", 400, 300)]
    assert [r.file for r in out.webp] == ["photo-100.webp", "photo-200.webp", "photo-400.webp"]
    for r in out.renditions:
        with Image.open(tmp_path / "out" / r.file) as im:
            assert im.size == (r.width, r.height)
            assert im.format == r.format.upper()
        assert r.bytes == (tmp_path / "out" / r.file).stat().st_size


def test_large_jpeg_uses_draft_decoding_and_still_gets_exact_sizes(tmp_path):
    src = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (10, 120, 200)).save(src, quality=80)
    out = process_image(src, tmp_path / "out", ImageParams())
    assert (out.width, out.height) == (4000, 3000)
    assert [(r.width, r.height) for r in out.fallback] == [(480, 360), (960, 720), (1600, 1200)]


def test_params_key_changes_with_every_setting_but_not_with_the_pixel_limit():
    base = ImageParams()
    assert base.key() != ImageParams(widths=(480, 960)).key()
    assert base.key() != ImageParams(jpeg_quality=70).key()
    assert base.key() != ImageParams(webp_quality=70).key()
    assert base.key() == ImageParams(max_pixels=10).key()


# ---------------------------------------------------------------- orientation

def _two_colour_photo(path: Path, orientation: int) -> None:
    """Stored 200×100: left half red, right half blue, with the given EXIF orientation."""
    im = Image.new("RGB", (200, 100), (255, 0, 0))
    im.paste((0, 0, 255), (100, 0, 200, 100))
    exif = Image.Exif()
    exif[0x0112] = orientation
    im.save(path, quality=95, exif=exif.tobytes())


def _dominant(pixel: tuple) -> str:
    r, g, b = pixel[:3]
    return "red" if r > b else "blue"


@pytest.mark.parametrize(("orientation", "top", "bottom"), [(6, "red", "blue"), (8, "blue", "red")])
def test_exif_orientation_rotates_pixels_and_swaps_dimensions(tmp_path, orientation, top, bottom):
    src = tmp_path / f"o{orientation}.jpg"
    _two_colour_photo(src, orientation)
    out = process_image(src, tmp_path / "out", SMALL)
    assert (out.width, out.height) == (100, 200)
    assert read_size(src, SMALL) == (100, 200)
    for r in out.renditions:
        with Image.open(tmp_path / "out" / r.file) as im:
            im = im.convert("RGB")
            assert im.width < im.height
            assert _dominant(im.getpixel((im.width // 2, im.height // 8))) == top
            assert _dominant(im.getpixel((im.width // 2, im.height * 7 // 8))) == bottom
            assert not im.getexif()


# ---------------------------------------------------------------- metadata

def test_gps_exif_xmp_and_comments_never_reach_any_output(tmp_path):
    src = tmp_path / "gps.jpg"
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0112] = 1
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 17.0)}
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://ns.adobe.com/xap/1.0/">secret</rdf:RDF></x:xmpmeta>'
    Image.new("RGB", (120, 90), "green").save(src, exif=exif.tobytes(), comment=b"secret comment", xmp=xmp)
    with Image.open(src) as check:  # the source really carries it all
        assert check.getexif().get_ifd(0x8825)
        assert b"secret" in src.read_bytes()
    out_dir = tmp_path / "out"
    process_image(src, out_dir, SMALL)
    outputs = _all_outputs(out_dir)
    assert len(outputs) == 6
    for path in outputs:
        _metadata_free(path)


def test_png_text_chunks_and_exif_are_stripped(tmp_path):
    src = tmp_path / "shot.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", "secret text")
    info.add_itxt("XML:com.adobe.xmp", "secret xmp")
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    Image.new("RGB", (100, 60), "white").save(src, pnginfo=info, exif=exif.tobytes())
    raw = src.read_bytes()
    assert all(m in raw for m in (b"Canon", b"secret text", b"secret xmp", b"eXIf", b"tEXt", b"iTXt"))  # it has them
    outputs = process_image(src, tmp_path / "out", SMALL)
    files = _all_outputs(tmp_path / "out")
    assert len(files) == len(outputs.renditions) >= 2  # never a vacuous loop
    for path in files:
        _metadata_free(path)


# ---------------------------------------------------------------- colour and pixel formats

def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def adobe_rgb_profile() -> bytes:
    """A minimal ICC v2 matrix/TRC profile with the Adobe RGB (1998) primaries and gamma 563/256."""
    def xyz(x, y, z):
        return b"XYZ " + b"\0" * 4 + _s15(x) + _s15(y) + _s15(z)

    def curve(gamma_u8f8):
        return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, gamma_u8f8) + b"\0\0"

    name = b"Adobe RGB (1998) test\0"
    desc = (b"desc" + b"\0" * 4 + struct.pack(">I", len(name)) + name + b"\0" * 8 + b"\0\0\0" + b"\0" * 67)
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
            (b"rXYZ", xyz(0.60974, 0.31111, 0.01947)), (b"gXYZ", xyz(0.20528, 0.62567, 0.06087)),
            (b"bXYZ", xyz(0.14919, 0.06322, 0.74457)), (b"rTRC", curve(0x0233)), (b"gTRC", curve(0x0233)),
            (b"bTRC", curve(0x0233)), (b"cprt", b"text" + b"\0" * 4 + b"none\0\0\0\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        while len(body) % 4:
            body += b"\0"
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    size = 128 + len(body)
    header = (struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntr" + b"RGB " + b"XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
              + b"\0" * 4)
    header += b"\0" * (128 - len(header))
    return header + body


def test_adobe_rgb_photo_is_converted_to_srgb_and_profile_dropped(tmp_path):
    icc = adobe_rgb_profile()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    assert "Adobe RGB" in ImageCms.getProfileDescription(profile)
    colour = (60, 170, 90)
    src = tmp_path / "adobe.png"  # PNG: lossless, so the pixel values can be compared exactly
    Image.new("RGB", (64, 48), colour).save(src, icc_profile=icc)
    expected = ImageCms.profileToProfile(Image.new("RGB", (1, 1), colour), profile,
                                         ImageCms.createProfile("sRGB")).getpixel((0, 0))
    assert max(abs(a - b) for a, b in zip(expected, colour, strict=True)) > 10  # a real change
    out = process_image(src, tmp_path / "out", SMALL)
    with Image.open(tmp_path / "out" / out.fallback[-1].file) as im:
        assert "icc_profile" not in im.info
        got = im.convert("RGB").getpixel((10, 10))
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) <= 2


def test_srgb_profile_leaves_pixels_alone_and_is_dropped(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = tmp_path / "srgb.png"
    Image.new("RGB", (50, 50), (60, 170, 90)).save(src, icc_profile=srgb)
    out = process_image(src, tmp_path / "out", SMALL)
    with Image.open(tmp_path / "out" / out.fallback[-1].file) as im:
        assert "icc_profile" not in im.info
        assert im.getpixel((5, 5)) == (60, 170, 90)


def test_broken_icc_profile_does_not_stop_the_photo(tmp_path):
    src = tmp_path / "badicc.jpg"
    Image.new("RGB", (50, 50), "red").save(src, icc_profile=b"not a profile at all")
    out = process_image(src, tmp_path / "out", SMALL)
    _metadata_free(tmp_path / "out" / out.fallback[-1].file)


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    src = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (120, 80), (0, 255, 255, 0)).save(src, quality=95)  # print red
    out = process_image(src, tmp_path / "out", SMALL)
    assert out.format == "jpeg"
    for r in out.renditions:
        with Image.open(tmp_path / "out" / r.file) as im:
            assert im.mode == "RGB"
            red, green, blue = im.getpixel((im.width // 2, im.height // 2))
            assert red > 200 and green < 60 and blue < 60


def test_16_bit_png_is_scaled_to_8_bits_not_clipped(tmp_path):
    src = tmp_path / "deep.png"
    im = Image.new("I;16", (256, 10))
    im.putdata([x * 257 for x in range(256)] * 10)  # 0 … 65535 left to right
    im.save(src)
    with Image.open(src) as check:
        assert check.mode.startswith("I;16")
    out = process_image(src, tmp_path / "out", ImageParams(widths=(256,)))
    assert out.format == "png"
    with Image.open(tmp_path / "out" / "deep-256.png") as res:
        assert res.mode == "L"
        assert res.getpixel((0, 5)) <= 2
        assert 120 <= res.getpixel((128, 5)) <= 136
        assert res.getpixel((255, 5)) >= 250


def test_palette_png_with_transparency_keeps_alpha_in_png_and_webp(tmp_path):
    src = tmp_path / "logo.png"
    im = Image.new("P", (100, 100), 0)
    im.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    im.paste(1, (25, 25, 75, 75))
    im.save(src, transparency=0)
    out = process_image(src, tmp_path / "out", SMALL)
    assert out.format == "png" and out.has_alpha
    for name in ("logo-100.png", "logo-100.webp"):
        with Image.open(tmp_path / "out" / name) as res:
            rgba = res.convert("RGBA")
            assert rgba.getpixel((2, 2))[3] == 0
            assert rgba.getpixel((50, 50))[0] > 180 and rgba.getpixel((50, 50))[1] < 40
            assert rgba.getpixel((50, 50))[3] == 255


def test_rgba_png_keeps_alpha_and_opaque_rgba_drops_it(tmp_path):
    src = tmp_path / "glass.png"
    Image.new("RGBA", (80, 80), (0, 128, 255, 100)).save(src)
    out = process_image(src, tmp_path / "out", SMALL)
    assert out.has_alpha
    with Image.open(tmp_path / "out" / "glass-80.png") as res:
        assert res.mode == "RGBA" and res.getpixel((1, 1))[3] == 100
    with Image.open(tmp_path / "out" / "glass-80.webp") as res:
        assert res.mode == "RGBA"
    opaque = tmp_path / "opaque.png"
    Image.new("RGBA", (80, 80), (0, 128, 255, 255)).save(opaque)
    out2 = process_image(opaque, tmp_path / "out2", SMALL)
    assert not out2.has_alpha
    with Image.open(tmp_path / "out2" / "opaque-80.png") as res:
        assert res.mode == "RGB"


def test_la_greyscale_with_alpha_stays_greyscale_png(tmp_path):
    src = tmp_path / "la.png"
    Image.new("LA", (60, 60), (128, 50)).save(src)
    out = process_image(src, tmp_path / "out", SMALL)
    assert out.has_alpha and out.format == "png"
    with Image.open(tmp_path / "out" / "la-60.png") as res:
        assert res.mode == "LA" and res.getpixel((3, 3)) == (128, 50)


def test_transparent_webp_and_opaque_tiff_get_fitting_fallbacks(tmp_path):
    webp = tmp_path / "w.webp"
    Image.new("RGBA", (60, 40), (10, 20, 30, 40)).save(webp, lossless=True)
    assert process_image(webp, tmp_path / "a", SMALL).format == "png"
    tiff = tmp_path / "t.tiff"
    Image.new("RGB", (60, 40), "navy").save(tiff)
    out = process_image(tiff, tmp_path / "b", SMALL)
    assert out.format == "jpeg" and out.fallback[0].file == "t-40.jpg"


def test_animated_gif_becomes_first_frame_png(tmp_path):
    src = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (50, 50), c) for c in ("red", "blue", "green")]
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=100, loop=0, comment=b"secret")
    out = process_image(src, tmp_path / "out", SMALL)
    assert out.animated and out.format == "png"
    with Image.open(tmp_path / "out" / "anim-50.png") as res:
        assert _dominant(res.convert("RGB").getpixel((25, 25))) == "red"
    for path in _all_outputs(tmp_path / "out"):
        _metadata_free(path)


# ---------------------------------------------------------------- bad input

def png_header(width: int, height: int) -> bytes:
    """The first bytes of a PNG declaring ``width``×``height``: enough for Pillow to read its size."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    idat = zlib.compress(b"\0" * 16)
    chunk += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    return b"\x89PNG\r\n\x1a\n" + chunk


def test_text_file_named_jpg_fails_with_path_and_reason(tmp_path):
    src = tmp_path / "notes.jpg"
    src.write_text("这不是图片", encoding="utf-8")
    with pytest.raises(MediaError) as err:
        process_image(src, tmp_path / "out", SMALL)
    assert err.value.path == str(src)
    assert "不是图片" in str(err.value)


def test_zero_byte_file_fails_with_path_and_reason(tmp_path):
    src = tmp_path / "empty.jpg"
    src.write_bytes(b"")
    with pytest.raises(MediaError) as err:
        process_image(src, tmp_path / "out", SMALL)
    assert err.value.path == str(src)
    assert "0 字节" in str(err.value)


def test_30000_square_png_is_refused_by_the_bomb_guard_without_decoding(tmp_path):
    src = tmp_path / "bomb.png"
    src.write_bytes(png_header(30000, 30000))
    with pytest.raises(MediaError) as err:
        process_image(src, tmp_path / "out", ImageParams())
    assert err.value.path == str(src)
    assert "像素过多" in str(err.value) and "max_image_pixels" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_image_just_over_the_configured_limit_is_refused(tmp_path):
    src = tmp_path / "wide.png"
    Image.new("RGB", (50, 30), "red").save(src)  # 1,500 pixels: above 1,000, below Pillow's 2× error
    with pytest.raises(MediaError) as err:
        process_image(src, tmp_path / "out", ImageParams(widths=(20,), max_pixels=1000))
    assert "像素过多" in str(err.value)


def test_truncated_jpeg_fails_as_damaged(tmp_path):
    src = tmp_path / "cut.jpg"
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 50).convert("RGB").save(buf, "JPEG", quality=90)
    src.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(MediaError) as err:
        process_image(src, tmp_path / "out", SMALL)
    assert err.value.path == str(src)
    assert "损坏或不完整" in str(err.value)


def test_messages_are_english_with_zhuanti_lang(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHUANTI_LANG", "en")
    src = tmp_path / "notes.jpg"
    src.write_text("hello")
    with pytest.raises(MediaError, match="not an image"):
        process_image(src, tmp_path / "out", SMALL)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "AVIF"])
def test_sniff_recognises_each_photo_format_by_content(tmp_path, fmt):
    from PIL import Image as PILImage

    from media_pipeline.images import sniff_image

    PILImage.init()
    if fmt not in PILImage.SAVE:
        pytest.skip(f"this Pillow cannot write {fmt}")
    path = tmp_path / "picture.css"  # the name says nothing: only the content counts
    PILImage.new("RGB", (8, 8), (200, 30, 30)).save(path, format=fmt)
    assert sniff_image(path) == fmt


def test_sniff_leaves_non_photos_without_asking_pillow(tmp_path, monkeypatch):
    from PIL import Image as PILImage

    from media_pipeline import images

    files = {"site.css": b"body { color: #333 }\n", "icon.svg": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
             "doc.pdf": b"%PDF-1.4 test", "empty.js": b"", "short": b"\xff\xd8"}
    opened = []
    monkeypatch.setattr(images.Image, "open", lambda *a, **k: opened.append(a) or PILImage.open(*a, **k))
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        assert images.sniff_image(tmp_path / name) is None
    assert opened == []
