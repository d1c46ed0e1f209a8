"""read_exif on every real photo in shared/data/photos (expected values are what the files hold, as
exifread reads them), on generated photos whose EXIF we write ourselves, and on garbage."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import logging
from zoneinfo import ZoneInfo

import pytest
from exifread.core.ifd_tag import IfdTag
from exifread.tags.fields import FieldType
from exifread.utils import Ratio
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, TiffImagePlugin

from media_rules import exif as exif_module
from media_rules.evidence import ExifData
from media_rules.exif import read_exif
from tests.shared_data import PHOTOS

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.timezone.utc
RANDOM = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(128))  # 4 KB, repeatable


def dms(degrees: float, minutes: float, seconds: float) -> float:
    return degrees + minutes / 60 + seconds / 3600


def sh(*args: int) -> dt.datetime:
    """A local time with the assumed Asia/Shanghai zone."""
    return dt.datetime(*args, tzinfo=SHANGHAI)


def at(offset_hours: int, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone(dt.timedelta(hours=offset_hours)))


NIKON = {"make": "NIKON", "model": "COOLPIX P6000", "software": "Nikon Transfer 1.1 W", "orientation": 1}
NIKON.update(width=640, height=480, capture_offset_assumed=True)

# Printed from each file with exifread (details=False) before writing: rationals are copied as the
# camera wrote them, e.g. DSCN0010's GPSLatitude is [43, 28, 1407/500].
EXPECTED: dict[str, ExifData] = {
    "DSCN0010.jpg": ExifData(
        capture_time=sh(2008, 10, 22, 16, 28, 39),  # no OffsetTime*: Shanghai assumed
        gps_lat=dms(43, 28, 1407 / 500),
        gps_lon=dms(11, 53, 645599999 / 100000000),
        gps_time=dt.datetime(2008, 10, 23, 14, 27, 7, 240000, tzinfo=UTC),  # 181/25 s
        modify_time=sh(2008, 11, 1, 21, 15, 7),
        **NIKON,
    ),
    "DSCN0012.jpg": ExifData(
        capture_time=sh(2008, 10, 22, 16, 29, 49),
        gps_lat=dms(43, 28, 176399999 / 100000000),
        gps_lon=dms(11, 53, 742199999 / 100000000),
        gps_time=dt.datetime(2008, 10, 23, 14, 28, 17, 240000, tzinfo=UTC),
        modify_time=sh(2008, 11, 1, 21, 15, 7),
        **NIKON,
    ),
    "DSCN0021.jpg": ExifData(
        capture_time=sh(2008, 10, 22, 16, 38, 20),
        gps_lat=dms(43, 28, 149399999 / 100000000),
        gps_lon=dms(11, 53, 433799999 / 100000000),
        gps_time=dt.datetime(2008, 10, 23, 14, 36, 47, 230000, tzinfo=UTC),
        modify_time=sh(2008, 11, 1, 21, 15, 8),
        **NIKON,
    ),
    "DSCN0025.jpg": ExifData(
        capture_time=sh(2008, 10, 22, 16, 43, 21),
        gps_lat=dms(43, 28, 3057 / 500),
        gps_lon=dms(11, 52, 538859999 / 10000000),
        gps_time=dt.datetime(2008, 10, 23, 14, 41, 49, 30000, tzinfo=UTC),
        modify_time=sh(2008, 11, 1, 21, 15, 9),
        **NIKON,
    ),
    "HMD_Nokia_8.3_5G.jpg": ExifData(
        capture_time=at(3, 2022, 8, 14, 14, 12, 31),  # OffsetTimeOriginal +03:00
        gps_lat=dms(60, 8, 2407 / 50),
        gps_lon=dms(24, 54, 1219 / 50),
        gps_time=dt.datetime(2022, 8, 14, 11, 12, 32, tzinfo=UTC),
        make="HMD Global",
        model="Nokia 8.3 5G",
        software="00WW_3_380_SP02",
        width=4608,  # no PixelX/YDimension in its EXIF: from the JPEG header
        height=1976,
        orientation=1,
    ),
    "IMG_5195.HEIC": ExifData(
        capture_time=at(-5, 2021, 4, 11, 15, 47, 53, 54000),  # SubSecTimeOriginal "054"
        gps_lat=dms(39, 3, 121 / 25),
        gps_lon=-dms(94, 17, 979 / 50),  # GPSLongitudeRef W
        gps_accuracy_m=250111 / 6444,  # GPSHPositioningError, "GPS Tag 0x001F" in exifread 3.5
        altitude_m=244927 / 940,
        make="Apple",
        model="iPhone 11 Pro Max",
        software="14.4.2",
        modify_time=at(-5, 2021, 4, 11, 15, 47, 53),  # DateTime + OffsetTime -05:00
        width=4032,
        height=3024,
    ),
    "67-0_length_string.jpg": ExifData(
        capture_time=sh(2016, 9, 12, 10, 5, 31),  # no DateTimeOriginal/Digitized: DateTime
        capture_offset_assumed=True,
        gps_lat=dms(51, 1, 30),
        gps_lon=dms(7, 35, 31),
        altitude_m=340.0,  # no GPSTimeStamp, so no gps_time
        make="samsung",
        model="SM-G930F",
        modify_time=sh(2016, 9, 12, 10, 5, 31),
        width=4032,
        height=2012,
        orientation=1,
    ),
    "jolla.jpg": ExifData(
        capture_time=sh(2014, 9, 21, 16, 0, 56),
        capture_offset_assumed=True,
        make="Jolla",
        model="Jolla",
        modify_time=sh(2014, 9, 21, 16, 0, 56),
        width=3264,
        height=2448,
        orientation=1,
    ),
    "Canon_40D.jpg": ExifData(
        capture_time=sh(2008, 5, 30, 15, 56, 1),  # SubSecTimeOriginal "00"
        capture_offset_assumed=True,
        make="Canon",
        model="Canon EOS 40D",
        software="GIMP 2.4.5",
        modify_time=sh(2008, 7, 31, 10, 38, 11),
        width=100,
        height=68,
        orientation=1,
    ),
    # exifread warns "Possibly corrupted IFD: EXIF" and loses the EXIF IFD (so DateTimeOriginal):
    # the time is IFD0's DateTime, written by the editor.
    "30-type_error.jpg": ExifData(
        capture_time=sh(2013, 7, 7, 17, 20, 59),
        capture_offset_assumed=True,
        software="Adobe Photoshop Elements 7.0",
        modify_time=sh(2013, 7, 7, 17, 20, 59),
        width=3872,
        height=2403,
        problems=("corrupt_exif",),
    ),
    # Its corruption is in the Olympus MakerNote (exifread decodes junk tags from it with
    # details=True); the header we read (details=False) is sound, so nothing is reported.
    "corrupted.jpg": ExifData(
        capture_time=sh(2015, 9, 8, 11, 2, 17),
        capture_offset_assumed=True,
        make="OLYMPUS IMAGING CORP.",  # written with trailing blanks
        model="u1020,S1020",
        software="Version 1.0",
        modify_time=sh(2015, 9, 8, 11, 2, 17),
        width=3648,
        height=2736,
        orientation=1,
    ),
    "image00971.jpg": ExifData(width=636, height=227, problems=("no_exif",)),  # an XMP APP1 only
    # It does hold an EXIF APP1, after an XMP one: exifread stops at the first APP1 and finds none.
    "no_exif.jpg": ExifData(width=322, height=466, problems=("no_exif",)),
    "landscape_6.jpg": ExifData(width=450, height=600, orientation=6),
}


def assert_exif(actual: ExifData, expected: ExifData) -> None:
    for field in dataclasses.fields(ExifData):
        got, want = getattr(actual, field.name), getattr(expected, field.name)
        if isinstance(want, float):
            assert got == pytest.approx(want, abs=1e-9), field.name
        else:
            assert got == want, field.name
        if isinstance(want, dt.datetime):  # equal instants are not enough: the same offset too
            assert got.utcoffset() == want.utcoffset(), field.name


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def jpeg(exif: Image.Exif | None = None, size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, "JPEG", exif=exif if exif is not None else Image.Exif())
    return out.getvalue()


def test_every_photo_has_expectations():
    assert PHOTOS.is_dir(), PHOTOS
    assert sorted(p.name for p in PHOTOS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_photo(name):
    assert_exif(read_exif(photo(name)), EXPECTED[name])


def test_nikon_clock_disagrees_with_its_gps():
    """The camera clock was a day behind, in Italian summer time (+02:00): about 24 h of skew. Read
    with the Shanghai assumption (+08:00) the gap shows as about 30 h."""
    exif = read_exif(photo("DSCN0010.jpg"))
    assert exif.capture_offset_assumed
    assert exif.capture_time.tzinfo is SHANGHAI
    assert exif.has_gps
    assert 43.46 < exif.gps_lat < 43.47
    assert 11.88 < exif.gps_lon < 11.89
    assert dt.timedelta(hours=29) < exif.gps_time - exif.capture_time < dt.timedelta(hours=30)


def test_phone_time_and_gps_time_agree():
    exif = read_exif(photo("HMD_Nokia_8.3_5G.jpg"))
    assert not exif.capture_offset_assumed
    assert exif.capture_time.utcoffset() == dt.timedelta(hours=3)
    assert abs(exif.gps_time - exif.capture_time) <= dt.timedelta(seconds=2)
    assert 60.1 < exif.gps_lat < 60.2
    assert 24.9 < exif.gps_lon < 25.0


def test_iphone_heic():
    exif = read_exif(photo("IMG_5195.HEIC"))
    assert exif.has_gps
    assert exif.gps_accuracy_m == pytest.approx(38.813, abs=1e-3)
    assert not exif.capture_offset_assumed
    assert exif.capture_time.utcoffset() == dt.timedelta(hours=-5)
    assert (exif.width, exif.height) == (4032, 3024)


def test_file_object_is_read_and_left_where_it_was():
    with (PHOTOS / "DSCN0010.jpg").open("rb") as f:
        f.seek(7)
        assert read_exif(f) == read_exif(photo("DSCN0010.jpg"))
        assert f.tell() == 7


def test_unseekable_stream():
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self.inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    pipe = Pipe(photo("HMD_Nokia_8.3_5G.jpg"))
    assert not pipe.seekable()
    assert read_exif(pipe) == EXPECTED["HMD_Nokia_8.3_5G.jpg"]


def test_closed_file():
    f = io.BytesIO(photo("DSCN0010.jpg"))
    f.close()
    assert read_exif(f).problems == ("no_exif", "unreadable_input")


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        (b"", ("no_exif", "empty")),
        (RANDOM, ("no_exif", "unsupported_format")),
        (b"name,lon,lat\nsite 1,116.39,39.91\n", ("no_exif", "unsupported_format")),
        (photo("DSCN0010.jpg")[:200], ("unreadable_image",)),  # IFD0 values past the cut are lost
        (photo("IMG_5195.HEIC")[:1000], ("corrupt_exif", "no_exif", "unreadable_image")),
    ],
    ids=["empty", "random", "text", "truncated-jpeg", "truncated-heic"],
)
def test_garbage(data, problems):
    exif = read_exif(data)
    assert exif.problems == problems
    assert exif.capture_time is None
    assert not exif.has_gps
    assert exif.width is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("cut", [1, 3, 12, 64, 200, 1000, 5000, 20000])
def test_truncated_photos_never_raise(name, cut):
    assert isinstance(read_exif(photo(name)[:cut]), ExifData)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning", "ignore:Tag data larger:UserWarning")
@settings(max_examples=150, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=3000), st.binary(min_size=1, max_size=8))
def test_damaged_header_never_raises(offset, junk):
    data = bytearray(photo("DSCN0010.jpg"))  # EXIF, GPS IFD and thumbnail pointers in the first 3 KB
    data[offset : offset + len(junk)] = junk
    assert isinstance(read_exif(bytes(data)), ExifData)


@settings(max_examples=100, deadline=None, database=None)
@given(st.binary(max_size=256))
def test_any_bytes_never_raise(data):
    assert isinstance(read_exif(b"\xff\xd8\xff\xe1" + data), ExifData)
    assert isinstance(read_exif(data), ExifData)


def test_png_without_exif():
    out = io.BytesIO()
    Image.new("RGB", (40, 30)).save(out, "PNG")
    assert read_exif(out.getvalue()) == ExifData(width=40, height=30, problems=("no_exif",))


def test_heic_without_exif_gets_its_size_from_the_header():
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(out, "HEIF")  # the opener is registered by media_rules.exif
    assert read_exif(out.getvalue()) == ExifData(width=64, height=48, problems=("no_exif",))


def full_exif() -> Image.Exif:
    """A phone photo in the southern and western hemispheres (Rio de Janeiro), 12.5 m below sea level."""
    exif = Image.Exif()
    exif[0x010F] = "  Xiaomi  "  # Make, padded
    exif[0x0110] = "Redmi Note 12"
    exif[0x0131] = "   "  # Software, blank
    exif[0x0132] = "2024:05:01 18:30:00"  # DateTime
    exif[0x0112] = 3
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:01 10:00:30"  # DateTimeOriginal
    sub[0x9011] = "+08:00"  # OffsetTimeOriginal
    sub[0x9291] = "25"  # SubSecTimeOriginal: 0.25 s
    gps = exif.get_ifd(0x8825)
    gps.update({0x01: "S", 0x02: (22.0, 54.0, 30.0), 0x03: "W", 0x04: (43.0, 11.0, 47.0)})
    gps.update({0x05: 1, 0x06: 12.5, 0x1F: 4.5, 0x07: (2.0, 0.0, 31.5), 0x1D: "2024:05:01"})
    return exif


def test_written_exif_signs_offset_and_subseconds():
    exif = read_exif(jpeg(full_exif()))
    expected = ExifData(
        capture_time=at(8, 2024, 5, 1, 10, 0, 30, 250000),
        gps_lat=-dms(22, 54, 30),
        gps_lon=-dms(43, 11, 47),
        gps_time=dt.datetime(2024, 5, 1, 2, 0, 31, 500000, tzinfo=UTC),
        gps_accuracy_m=4.5,
        altitude_m=-12.5,
        make="Xiaomi",
        model="Redmi Note 12",
        modify_time=sh(2024, 5, 1, 18, 30, 0),  # no OffsetTime: assumed, like capture times
        width=32,
        height=24,
        orientation=3,
    )
    assert_exif(exif, expected)


def test_impossible_times_are_rejected():
    exif = full_exif()
    exif[0x0132] = "2024:13:45 25:61:00"  # DateTime: impossible
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "0000:00:00 00:00:00"  # DateTimeOriginal: the cameras' "unknown"
    sub[0x9004] = "    :  :     :  :  "  # DateTimeDigitized: EXIF's own "unknown"
    read = read_exif(jpeg(exif))
    assert read.capture_time is None
    assert read.modify_time is None
    assert not read.capture_offset_assumed
    assert read.problems == ("bad_datetime",)


def test_unknown_times_are_missing_not_bad():
    exif = full_exif()
    del exif[0x0132]
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    read = read_exif(jpeg(exif))
    assert read.capture_time is None
    assert read.problems == ()


def test_impossible_offset_falls_back_to_shanghai():
    exif = full_exif()
    exif.get_ifd(0x8769)[0x9011] = "+25:00"
    read = read_exif(jpeg(exif))
    assert read.capture_time == sh(2024, 5, 1, 10, 0, 30, 250000)
    assert read.capture_offset_assumed
    assert read.problems == ("bad_datetime",)


def test_zero_zero_is_no_fix():
    exif = full_exif()
    exif.get_ifd(0x8825).update({0x01: "N", 0x02: (0.0, 0.0, 0.0), 0x03: "E", 0x04: (0.0, 0.0, 0.0)})
    read = read_exif(jpeg(exif))
    assert not read.has_gps
    assert read.gps_lat is None
    assert read.problems == ()


def test_zero_denominators_are_missing():
    exif = full_exif()
    zero = (TiffImagePlugin.IFDRational(0, 0),) * 3
    exif.get_ifd(0x8825).update({0x02: zero, 0x04: zero, 0x06: zero[0], 0x1F: zero[0]})
    read = read_exif(jpeg(exif))
    assert not read.has_gps
    assert read.altitude_m is None
    assert read.gps_accuracy_m is None
    assert read.problems == ()


@pytest.mark.parametrize(
    "gps",
    [
        {0x02: (95.0, 0.0, 0.0)},  # latitude past the pole
        {0x03: "Q"},  # no such hemisphere
        {0x04: (43.0, TiffImagePlugin.IFDRational(0, 0), 47.0)},  # half unknown
        {0x07: (25.0, 0.0, 0.0)},  # hour 25
    ],
    ids=["lat-95", "ref-Q", "partial-0/0", "hour-25"],
)
def test_impossible_gps_is_reported(gps):
    exif = full_exif()
    exif.get_ifd(0x8825).update(gps)
    assert "bad_gps" in read_exif(jpeg(exif)).problems


def test_either_name_of_gps_h_positioning_error(monkeypatch):
    """exifread 3.5 names tag 0x001F "GPS Tag 0x001F", other versions "GPS GPSHPositioningError"."""

    def tag(number: int, values: list) -> IfdTag:
        return IfdTag(str(values), number, FieldType.RATIO, values, 0, 8)

    for name in ("GPS GPSHPositioningError", "GPS Tag 0x001F"):
        tags = {name: tag(0x001F, [Ratio(250111, 6444)]), "GPS GPSLatitude": tag(0x0002, [Ratio(0, 0)] * 3)}
        monkeypatch.setattr(exif_module.exifread, "process_file", lambda *a, _t=tags, **k: _t)
        read = read_exif(photo("landscape_6.jpg"))
        assert read.gps_accuracy_m == pytest.approx(38.813, abs=1e-3), name
        assert not read.has_gps, name


def test_exifread_logging_is_silenced_and_restored(caplog):
    logger = logging.getLogger("exifread")
    with caplog.at_level(logging.DEBUG, logger="exifread"):
        for name in ("30-type_error.jpg", "no_exif.jpg"):
            read_exif(photo(name))
        read_exif(b"not an image")
        assert logger.level == logging.DEBUG
        assert not logger.filters
    assert not [r for r in caplog.records if r.name.startswith("exifread")]
