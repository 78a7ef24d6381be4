"""The tests' reader of a JSON log that a running process is still writing."""

from __future__ import annotations

from pathlib import Path

from tests.json_logs import json_lines, wait_for_json_line


def test_a_line_still_being_written_is_left_for_the_next_read(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text('{"request_id": "a"}\n{"request_id": "b", "sta')
    assert json_lines(log) == [{"request_id": "a"}]
    with log.open("a") as tail:
        tail.write('tus": 200}\n')
    assert json_lines(log) == [{"request_id": "a"}, {"request_id": "b", "status": 200}]


def test_waiting_for_a_line_skips_the_app_servers_plain_lines_and_gives_up_at_the_deadline(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text('[INFO] Booting worker\n{"request_id": "a"}\n')
    assert wait_for_json_line(log, lambda e: e["request_id"] == "a") == [{"request_id": "a"}]
    assert wait_for_json_line(log, lambda e: e["request_id"] == "z", timeout=0.1) == []
