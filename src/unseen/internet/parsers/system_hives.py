"""``SYSTEM`` and ``SOFTWARE`` hives: USB storage devices (``Enum\\USBSTOR``), installed
programs (``Uninstall`` keys) and keys that show a tool was installed."""

from __future__ import annotations

from collections.abc import Iterator

from unseen.internet.base import ARTEFACT_PARSERS, ArtefactParser, ParseContext
from unseen.internet.parsers.hive import (
    EPOCH,
    UNINSTALL,
    Hive,
    Key,
    filetime,
    key_at,
    nonempty,
    open_hive,
    presence_keys,
    section,
    uninstall,
    values_of,
)
from unseen.internet.records import Artefact, UsbDevice
from unseen.internet.timestamps import stamp, utc_of

USBSTOR_DATES = "{83da6326-97a6-4088-9453-a1923f573b29}"


class SystemHiveParser(ArtefactParser):
    NAME = "registry_system"
    VERSION = "1"
    DESCRIPTION = "SYSTEM hive: USB storage devices (USBSTOR), tool services"
    PATH_GLOBS = ("**/config/SYSTEM",)
    PRODUCES = ("device.usb", "tool.presence")
    MAX_BYTES = 512 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        hive = open_hive(ctx, self.MAX_BYTES, "system")
        yield from section(ctx, "USBSTOR", lambda: self._usbstor(ctx, hive))
        yield from section(ctx, "tool keys", lambda: presence_keys(ctx, hive, "system"))

    def _usbstor(self, ctx: ParseContext, hive: Hive) -> Iterator[Artefact]:
        seen: set[tuple[str, str]] = set()
        for control_set in _control_sets(hive):
            path = f"\\{control_set}\\Enum\\USBSTOR"
            root = key_at(hive, path)
            if root is None:
                continue
            for device in root.iter_subkeys():
                parts = device.name.split("&")
                vendor, product, revision = (_field(parts, i) for i in (1, 2, 3))
                for serial in device.iter_subkeys():
                    if (device.name, serial.name) in seen:
                        continue  # the same device in an older control set
                    seen.add((device.name, serial.name))
                    yield self._device(
                        ctx,
                        f"{path}\\{device.name}\\{serial.name}",
                        serial,
                        vendor,
                        product,
                        revision,
                    )

    def _device(
        self,
        ctx: ParseContext,
        key_path: str,
        key: Key,
        vendor: str | None,
        product: str | None,
        revision: str | None,
    ) -> UsbDevice:
        values = values_of(key)
        partmgr = key.get_subkey("Device Parameters", raise_on_missing=False)
        partmgr = partmgr.get_subkey("Partmgr", raise_on_missing=False) if partmgr else None
        disk_id = nonempty(values_of(partmgr).get("DiskId")) if partmgr else None
        dates = {
            code: utc_of(filetime(_property(key, code)), EPOCH)
            for code in ("0064", "0065", "0066", "0067")
        }
        return UsbDevice(
            ctx.prov(f"key {key_path}"),
            stamp(key.header.last_modified, EPOCH),
            vendor=vendor,
            product=product,
            revision=revision,
            serial=key.name,
            friendly_name=nonempty(values.get("FriendlyName")),
            disk_id=disk_id,
            key_path=key_path,
            first_installed_utc=dates["0065"],
            last_installed_utc=dates["0064"],
            last_connected_utc=dates["0066"],
            last_removed_utc=dates["0067"],
        )


def _field(parts: list[str], index: int) -> str | None:
    """``Ven_HP`` -> ``HP`` from a USBSTOR device key name's ``&``-separated parts."""
    if index >= len(parts):
        return None
    return parts[index].partition("_")[2] or parts[index] or None


def _property(key: Key, code: str) -> object:
    """A device property's value: ``Properties\\{guid}\\0064`` default value (Windows 8+)
    or ``Properties\\{guid}\\00000064\\00000000`` value ``Data`` (Windows 7)."""
    dates = key.get_subkey("Properties", raise_on_missing=False)
    dates = dates.get_subkey(USBSTOR_DATES, raise_on_missing=False) if dates else None
    if dates is None:
        return None
    node = dates.get_subkey(code, raise_on_missing=False)
    if node is not None:
        return next((v.value for v in node.iter_values(trim_values=False)), None)
    node = dates.get_subkey(f"0000{code}", raise_on_missing=False)
    node = node.get_subkey("00000000", raise_on_missing=False) if node else None
    return values_of(node).get("Data") if node is not None else None


def _control_sets(hive: Hive) -> list[str]:
    """Control sets, the current one (``Select\\Current``) first."""
    found = [k.name for k in hive.root.iter_subkeys() if k.name.lower().startswith("controlset")]
    select = key_at(hive, r"\Select")
    current = values_of(select).get("Current") if select is not None else None
    if isinstance(current, int):
        name = f"ControlSet{current:03d}"
        found.sort(key=lambda n: n != name)
    return found


class SoftwareHiveParser(ArtefactParser):
    NAME = "registry_software"
    VERSION = "1"
    DESCRIPTION = "SOFTWARE hive: installed programs (Uninstall keys), tool keys"
    PATH_GLOBS = ("**/config/SOFTWARE",)
    PRODUCES = ("program.installed", "tool.presence")
    MAX_BYTES = 1024 * 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        hive = open_hive(ctx, self.MAX_BYTES, "software")
        roots = (f"\\{UNINSTALL}", f"\\WOW6432Node\\{UNINSTALL}")
        yield from section(ctx, "Uninstall", lambda: uninstall(ctx, hive, roots))
        yield from section(ctx, "tool keys", lambda: presence_keys(ctx, hive, "software"))


ARTEFACT_PARSERS.register(SystemHiveParser)
ARTEFACT_PARSERS.register(SoftwareHiveParser)
