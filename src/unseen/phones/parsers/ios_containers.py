"""iOS app containers in a file-system extraction: each UUID folder under
``Containers/Data/Application``, ``Containers/Bundle/Application``,
``Containers/Shared/AppGroup`` and ``Containers/Data/PluginKitPlugin`` holds
``.com.apple.mobile_container_manager.metadata.plist`` whose ``MCMMetadataIdentifier``
names the app (``net.whatsapp.WhatsApp``) or group that owns it."""

from __future__ import annotations

import plistlib
from typing import Any

from unseen.core.errors import WrongFormat
from unseen.internet.base import ParseContext
from unseen.phones.base import MESSAGE_PARSERS, MessageParser
from unseen.phones.model import AppContainer, Extract

PLIST = ".com.apple.mobile_container_manager.metadata.plist"
LIMIT = 1024 * 1024
KINDS = {"Data/Application": "data", "Bundle/Application": "bundle",
         "Shared/AppGroup": "group", "Data/PluginKitPlugin": "plugin"}  # fmt: skip


class IosContainers(MessageParser):
    NAME = "ios_containers"
    VERSION = "1"
    DESCRIPTION = "iOS app container metadata: UUID folders to bundle and group ids"
    APP = "device"
    PATH_GLOBS = tuple(f"**/Containers/{k}/*/{PLIST}" for k in KINDS)

    @classmethod
    def sibling_paths(cls, path: str) -> tuple[str, ...]:
        return ()

    def parse(self, ctx: ParseContext) -> Extract:
        try:
            meta: Any = plistlib.loads(ctx.read_bytes(LIMIT))
        except (plistlib.InvalidFileException, ValueError) as exc:
            raise WrongFormat(f"not a property list: {exc}") from exc
        out = Extract(self.APP)
        identifier = meta.get("MCMMetadataIdentifier") if isinstance(meta, dict) else None
        if not isinstance(identifier, str) or not identifier:
            raise WrongFormat("container metadata without MCMMetadataIdentifier")
        container = ctx.task.path[: -len(PLIST) - 1]
        kind = next((v for k, v in KINDS.items() if f"/Containers/{k}/" in f"/{container}"), "?")
        out.apps.append(AppContainer(container, kind, identifier))
        return out


MESSAGE_PARSERS.register(IosContainers)
