"""Registry parsers on the benign sample hives (regipy's public test data, MIT).

Every expected value was read first with an independent reader (python-registry 1.3.1)
and checked by hand: 29 UserAssist programs (31 values of 72 bytes, of which 2 are
UEME_ bookkeeping), 2 TypedURLs, 11 RecentDocs values in the root key, one USB disk.
"""

from __future__ import annotations

from pathlib import Path

from .helpers import row_dict, run

NTUSER = "Users/vibranium/NTUSER.DAT"
SYSTEM = "Windows/System32/config/SYSTEM"
EXPLORER = r"\Software\Microsoft\Windows\CurrentVersion\Explorer"


def test_ntuser_counts_and_typed_urls(hives: Path) -> None:
    parsed = run("registry_ntuser", hives, NTUSER)
    assert parsed.errors == ()
    counts: dict[str, int] = {}
    for row in parsed.rows:
        counts[row.type] = counts.get(row.type, 0) + 1
    assert counts == {
        "registry.typed_url": 2,
        "registry.userassist": 29,
        "registry.recent_doc": 11,
    }
    typed = [row_dict(r) for r in parsed.of_type("registry.typed_url")]
    assert [t["data"]["url"] for t in typed] == [
        "http://199.73.28.114:53/",
        "http://go.microsoft.com/fwlink/?LinkId=69157",
    ]
    assert typed[0]["ts_utc"] is None  # no TypedURLsTime key in this hive
    assert typed[0]["data"]["key_last_write_utc"] == "2012-04-03T22:37:55.411500Z"
    assert (
        typed[0]["record_ref"] == r"key \Software\Microsoft\Internet Explorer\TypedURLs value url1"
    )


def test_ntuser_userassist_exemplar(hives: Path) -> None:
    rows = [
        row_dict(r) for r in run("registry_ntuser", hives, NTUSER).of_type("registry.userassist")
    ]
    found = next(r for r in rows if r["data"]["program"] == "Microsoft.Windows.GettingStarted")
    guid = "{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}"
    assert found == {
        "type": "registry.userassist",
        "parser": "registry_ntuser",
        "parser_version": "1",
        "ts_utc": "2012-04-03T22:06:58.124282Z",
        "ts_raw": "129779644181242823",
        "ts_epoch": "filetime",
        "record_ref": (
            f"key {EXPLORER}\\UserAssist\\{guid}\\Count value Zvpebfbsg.Jvaqbjf.TrggvatFgnegrq"
        ),
        "data": {
            "program": "Microsoft.Windows.GettingStarted",
            "run_count": 14,
            "focus_count": 21,
            "focus_time_ms": 420_000,
            "guid": guid,
        },
        "signals": (),
    }
    # Known-folder GUIDs are replaced by the folder they stand for.
    assert any(r["data"]["program"].startswith("%PROGRAMDATA%\\Microsoft") for r in rows)


def test_ntuser_recent_docs(hives: Path) -> None:
    rows = [
        row_dict(r) for r in run("registry_ntuser", hives, NTUSER).of_type("registry.recent_doc")
    ]
    assert [r["data"]["name"] for r in rows[:3]] == [
        "Agents-List-CLASSIFIED-TOP-SECRET",
        "Undercover-Agents-List-For-United-Kingdom.xls",
        "Undercover-Agents-List-For-United-States.xlsx",
    ]
    latest = rows[0]
    assert latest["ts_utc"] == "2012-04-04T15:43:17.160714Z"  # the RecentDocs key's last write
    assert latest["data"]["lnk_name"] == "Agents-List-CLASSIFIED-TOP-SECRET.lnk"
    assert latest["data"]["position"] == 0
    # Position 1 is the latest .xls, so its time is the .xls subkey's last write.
    assert rows[1]["data"]["time_key"] == f"{EXPLORER}\\RecentDocs\\.xls"
    assert rows[1]["ts_utc"] is not None
    assert rows[-1]["data"] == {
        "name": "Downloads",
        "lnk_name": "Downloads.lnk",
        "extension": None,
        "position": 10,
        "time_key": None,
    }


def test_system_usb_storage(hives: Path) -> None:
    parsed = run("registry_system", hives, SYSTEM)
    assert parsed.errors == ()
    (row,) = parsed.rows
    key = r"\ControlSet001\Enum\USBSTOR\Disk&Ven_HP&Prod_v100w&Rev_1024\AA951D0000007252&0"
    assert row_dict(row) == {
        "type": "device.usb",
        "parser": "registry_system",
        "parser_version": "1",
        "ts_utc": "2012-04-07T10:31:37.640871Z",
        "ts_raw": "129782682976408714",
        "ts_epoch": "filetime",
        "record_ref": f"key {key}",
        "data": {
            "vendor": "HP",
            "product": "v100w",
            "revision": "1024",
            "serial": "AA951D0000007252&0",
            "friendly_name": "HP v100w USB Device",
            "disk_id": "{eba74da4-5bb2-11e0-95d1-000c2971073c}",
            "key_path": key,
            "first_installed_utc": "2011-04-01T04:52:38.686000Z",
            "last_installed_utc": "2011-04-01T04:52:38.686000Z",
            "last_connected_utc": None,
            "last_removed_utc": None,
        },
        "signals": (),
    }


def test_damaged_hive_is_recorded(tmp_path: Path, hives: Path) -> None:
    data = (hives / NTUSER).read_bytes()
    target = tmp_path / NTUSER
    target.parent.mkdir(parents=True)
    target.write_bytes(data[:4096] + b"\xff" * 8192)
    parsed = run("registry_ntuser", tmp_path, NTUSER)
    assert parsed.outcome.status in ("failed", "empty")
    assert parsed.errors  # recorded, not raised
    target.write_bytes(b"not a hive" * 100)
    assert run("registry_ntuser", tmp_path, NTUSER).outcome.status == "failed"
