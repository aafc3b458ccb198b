"""The one source of "now" and "today" for build and check, in the site's time zone.

A site says where it is (``timezone = "Asia/Shanghai"`` in site.toml, the default); dates written
without a zone are read in it, "today" is today there, and pages show times there — never in the
machine's local zone (a server in UTC at 22:00 is already tomorrow in Beijing).

Tests pin "now" with ``ZHUANTI_NOW`` (an ISO date-time with a zone, e.g. ``2026-03-01T23:30:00+00:00``)
or :func:`pinned`; nothing else reads the wall clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import zoneinfo
from collections.abc import Iterator

DEFAULT_ZONE = "Asia/Shanghai"
NOW_ENV = "ZHUANTI_NOW"
# China Standard Time has had no daylight saving since 1991: used when the system has no tz database.
_FALLBACK = {"Asia/Shanghai": dt.timezone(dt.timedelta(hours=8), "CST"), "UTC": dt.UTC}

_configured: str = DEFAULT_ZONE
# Years a date may have: beyond these, time-zone arithmetic overflows (year 1 at UTC+9, 9999-12-31Z
# in UTC+8) and no government page is dated there anyway.
MIN_YEAR, MAX_YEAR = 1900, 2999


def in_range(value: dt.date) -> bool:
    return MIN_YEAR <= value.year <= MAX_YEAR


class UnknownZone(ValueError):
    """The name is not an IANA time zone (e.g. ``Asia/Beijing``)."""


def get_zone(name: str | None = None) -> dt.tzinfo:
    """The tzinfo of ``name`` (default: the configured site zone)."""
    name = name or _configured
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if name in _FALLBACK:
            return _FALLBACK[name]
        raise UnknownZone(name) from None


def configure(name: str) -> None:
    """Make ``name`` the zone of naive dates and of "today" for this process (raises UnknownZone)."""
    global _configured
    get_zone(name)
    _configured = name


def zone() -> dt.tzinfo:
    return get_zone(_configured)


def now(name: str | None = None) -> dt.datetime:
    """The current moment (pinned by ``ZHUANTI_NOW`` when set) in the site's zone."""
    pinned_value = os.environ.get(NOW_ENV)
    if pinned_value:
        moment = dt.datetime.fromisoformat(pinned_value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=get_zone(name))
    else:
        moment = dt.datetime.now(dt.UTC)
    return moment.astimezone(get_zone(name))


def today(name: str | None = None) -> dt.date:
    """Today's date where the site is."""
    return now(name).date()


def local(value: dt.datetime) -> dt.datetime:
    """An aware date-time shown in the site's zone."""
    return value.astimezone(zone())


@contextlib.contextmanager
def pinned(moment: dt.datetime) -> Iterator[None]:
    """Pin "now" (tests): ``with clock.pinned(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)): ...``."""
    old = os.environ.get(NOW_ENV)
    os.environ[NOW_ENV] = moment.isoformat()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(NOW_ENV, None)
        else:
            os.environ[NOW_ENV] = old
