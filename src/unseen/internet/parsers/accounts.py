"""Accounts read from simple application configuration files (names and folders only).

Dropbox ``info.json``: one object per account type (``personal``, ``business``) with the
local sync folder (``path``) and, for teams, the team name. Other clients' accounts are
found by path (presence rules) where the path names them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from unseen.core.errors import WrongFormat
from unseen.internet.base import ARTEFACT_PARSERS, ArtefactParser, ParseContext
from unseen.internet.records import Artefact, CloudAccount


class DropboxInfoParser(ArtefactParser):
    NAME = "dropbox_info"
    VERSION = "1"
    DESCRIPTION = "Dropbox info.json: account types and their local sync folders"
    PATH_GLOBS = ("**/Dropbox/info.json", "**/.dropbox/info.json")
    PRODUCES = ("account.cloud",)
    MAX_BYTES = 1024 * 1024

    def parse(self, ctx: ParseContext) -> Iterator[Artefact]:
        try:
            config = json.loads(ctx.read_bytes(self.MAX_BYTES).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WrongFormat(f"not a JSON document: {exc}") from exc
        if not isinstance(config, dict):
            raise WrongFormat("not a JSON object")
        for kind, account in config.items():
            if not isinstance(account, dict) or not isinstance(account.get("path"), str):
                continue
            team = account.get("team_name")
            detail = f"sync folder {account['path']}" + (f", team {team}" if team else "")
            yield CloudAccount(
                ctx.prov(f"key {kind}"), None, service="Dropbox", account=str(kind), detail=detail
            )


ARTEFACT_PARSERS.register(DropboxInfoParser)
