"""The device class of a visit from its user agent (`projects.analysis.devices`): real browsers'
user agent strings, command-line clients and an empty header."""

import timeit

import pytest

from projects.analysis import devices
from projects.analysis.devices import device_of
from projects.models import Device

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36"
)
ANDROID_FIREFOX_PHONE = "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0"
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET_CHROME = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
ANDROID_TABLET_FIREFOX = "Mozilla/5.0 (Android 13; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0"
KINDLE_FIRE = (
    "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/120.3.1 "
    "like Chrome/120.0.6099.144 Safari/537.36"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"
)
MACOS_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15"
)
MACOS_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0"
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
UBUNTU_CHROME = (
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
CHROMEBOOK = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (IPHONE_SAFARI, "phone"),
        (ANDROID_CHROME_PHONE, "phone"),
        (ANDROID_FIREFOX_PHONE, "phone"),
        (IPAD_SAFARI, "tablet"),
        (ANDROID_TABLET_CHROME, "tablet"),
        (ANDROID_TABLET_FIREFOX, "tablet"),
        (KINDLE_FIRE, "tablet"),
        (WINDOWS_CHROME, "desktop"),
        (WINDOWS_EDGE, "desktop"),
        (MACOS_SAFARI, "desktop"),
        (MACOS_FIREFOX, "desktop"),
        (LINUX_FIREFOX, "desktop"),
        (UBUNTU_CHROME, "desktop"),
        (CHROMEBOOK, "desktop"),
        ("curl/8.5.0", "other"),
        ("python-requests/2.31.0", "other"),
        ("Wget/1.21.4", "other"),
        ("", "other"),
        ("Mozilla/5.0", "other"),  # names no platform
    ],
)
def test_device_class_of_real_user_agents(user_agent: str, device: str) -> None:
    assert device_of(user_agent) == device


def test_device_values_are_the_models() -> None:
    assert set(Device.values) == devices.DEVICES


def test_device_of_is_cheap() -> None:
    # Runs on every public page view: well under 10 µs per call (the slowest string, a desktop
    # browser, goes through every test).
    agents = [IPHONE_SAFARI, ANDROID_TABLET_CHROME, WINDOWS_EDGE, LINUX_FIREFOX, "curl/8.5.0"]
    calls = 20_000
    best = min(timeit.repeat(lambda: [device_of(a) for a in agents], number=calls // len(agents), repeat=5))
    per_call = best / calls
    assert per_call < 10e-6, f"{per_call * 1e6:.2f} µs per call"
