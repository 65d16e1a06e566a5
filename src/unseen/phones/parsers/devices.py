"""Device identity: what the extraction says the phone is.

iOS backups carry ``Info.plist`` at their root (``Device Name``, ``Product Type``,
``Product Version``, ``Serial Number``, ``IMEI``, ``Phone Number``, ``Unique
Identifier``); Android file systems ``system/build.prop`` (``ro.product.model``,
``ro.product.manufacturer``, ``ro.build.version.release``, ``ro.serialno``).
"""

from __future__ import annotations

import plistlib
from typing import Any

from unseen.core.errors import WrongFormat
from unseen.internet.base import ParseContext
from unseen.phones.base import MESSAGE_PARSERS, MessageParser
from unseen.phones.model import Device, Extract

PLIST_LIMIT = 16 * 1024 * 1024
PROP_LIMIT = 4 * 1024 * 1024
IOS_KEYS = (
    "Build Version",
    "GUID",
    "ICCID",
    "Last Backup Date",
    "MEID",
    "Product Name",
    "Target Identifier",
    "Unique Identifier",
    "iTunes Version",
)


class IosBackupInfo(MessageParser):
    NAME = "ios_backup_info"
    VERSION = "1"
    DESCRIPTION = "iOS backup Info.plist: device name, model, iOS version, serial, IMEI"
    APP = "device"
    PATH_GLOBS = ("Info.plist",)  # the backup's root only; apps carry Info.plist too

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        return ()

    def parse(self, ctx: ParseContext) -> Extract:
        try:
            info: Any = plistlib.loads(ctx.read_bytes(PLIST_LIMIT))
        except (plistlib.InvalidFileException, ValueError) as exc:
            raise WrongFormat(f"not a property list: {exc}") from exc
        out = Extract(self.APP)
        if not isinstance(info, dict) or "Product Type" not in info:
            return out
        out.devices.append(
            Device(
                "ios",
                name=_text(info.get("Device Name")),
                model=_text(info.get("Product Type")),
                os_version=_text(info.get("Product Version")),
                serial=_text(info.get("Serial Number")),
                imei=_text(info.get("IMEI")),
                phone_number=_text(info.get("Phone Number")),
                details={k: _text(info[k]) for k in IOS_KEYS if k in info},
            )
        )
        return out


class AndroidBuildProp(MessageParser):
    NAME = "android_build_prop"
    VERSION = "1"
    DESCRIPTION = "Android system/build.prop: maker, model, Android version, serial"
    APP = "device"
    PATH_GLOBS = ("system/build.prop", "**/system/build.prop")

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        return ()

    def parse(self, ctx: ParseContext) -> Extract:
        props = _props(ctx.read_bytes(PROP_LIMIT).decode("utf-8", "backslashreplace"))
        out = Extract(self.APP)
        model = props.get("ro.product.model") or props.get("ro.product.system.model")
        if model is None:
            return out
        maker = props.get("ro.product.manufacturer") or props.get("ro.product.system.manufacturer")
        out.devices.append(
            Device(
                "android",
                name=props.get("ro.product.name"),
                model=f"{maker} {model}" if maker else model,
                os_version=props.get("ro.build.version.release"),
                serial=props.get("ro.serialno"),
                details={k: v for k, v in sorted(props.items()) if k.startswith("ro.build.")},
            )
        )
        return out


def _props(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            found[key.strip()] = value.strip()
    return found


def _text(value: object) -> str | None:
    return None if value is None else str(value)


MESSAGE_PARSERS.register(IosBackupInfo)
MESSAGE_PARSERS.register(AndroidBuildProp)
