# Copyright: Contributors to the autostack project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.autostack.wordpress.plugins.modules import stack_outputs

STAMP = "2026-01-01T00:00:00Z"


def run_module(capsys, check_mode=False, diff=False, **args):
    """Run the module's main() as Ansible would and return its JSON result."""
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            stack_outputs.main()
    return json.loads(capsys.readouterr().out)


def write_json(path, document):
    path.write_text(stack_outputs.render(document))


# Pure functions


@pytest.mark.parametrize(
    "current, values, remove, expected, changed",
    [
        pytest.param(
            {}, {"vpc_id": "vpc-1"}, [], {"stack": "s", "vpc_id": "vpc-1", "updated_at": "NOW"}, True, id="new"
        ),
        pytest.param(
            {"stack": "s", "updated_at": STAMP, "vpc_id": "vpc-1"},
            {"repo": "r"},
            [],
            {"stack": "s", "updated_at": "NOW", "vpc_id": "vpc-1", "repo": "r"},
            True,
            id="merge keeps other keys",
        ),
        pytest.param(
            {"stack": "s", "updated_at": STAMP, "vpc_id": "vpc-1", "repo": "r"},
            {"vpc_id": "vpc-1"},
            [],
            {"stack": "s", "updated_at": STAMP, "vpc_id": "vpc-1", "repo": "r"},
            False,
            id="same value keeps the stamp",
        ),
        pytest.param(
            {"stack": "s", "updated_at": STAMP, "subnets": ["a", "b"]},
            {"subnets": ("a", "b")},
            [],
            {"stack": "s", "updated_at": STAMP, "subnets": ["a", "b"]},
            False,
            id="tuple equals list",
        ),
        pytest.param(
            {"stack": "s", "updated_at": STAMP, "db": {"host": "h", "port": 3306}},
            {"db": {"host": "h"}},
            [],
            {"stack": "s", "updated_at": "NOW", "db": {"host": "h"}},
            True,
            id="shallow merge replaces nested dicts",
        ),
        pytest.param(
            {"stack": "s", "updated_at": STAMP, "alb": "a", "vpc_id": "v"},
            {},
            ["alb", "absent"],
            {"stack": "s", "updated_at": "NOW", "vpc_id": "v"},
            True,
            id="remove",
        ),
        pytest.param(
            {"stack": "s", "updated_at": STAMP, "vpc_id": "v"},
            {},
            ["absent"],
            {"stack": "s", "updated_at": STAMP, "vpc_id": "v"},
            False,
            id="remove missing key",
        ),
        pytest.param(
            {"stack": "s", "updated_at": STAMP, "alb": "old"},
            {"alb": "new"},
            ["alb"],
            {"stack": "s", "updated_at": "NOW", "alb": "new"},
            True,
            id="values win over remove",
        ),
        pytest.param({}, {}, [], {"stack": "s"}, False, id="nothing to record"),
        pytest.param(
            {"vpc_id": "v"},
            {},
            [],
            {"stack": "s", "vpc_id": "v", "updated_at": "NOW"},
            True,
            id="adds missing stack key",
        ),
    ],
)
def test_merge_outputs(current, values, remove, expected, changed):
    document, was_changed = stack_outputs.merge_outputs(current, "s", values, remove, now="NOW")
    assert document == expected
    assert was_changed is changed


def test_merge_outputs_does_not_mutate_current():
    current = {"stack": "s", "updated_at": STAMP, "vpc_id": "v"}
    stack_outputs.merge_outputs(current, "s", {"vpc_id": "w"}, ["stack"], now="NOW")
    assert current == {"stack": "s", "updated_at": STAMP, "vpc_id": "v"}


def test_render_is_sorted_indented_and_ends_with_newline():
    assert stack_outputs.render({"b": 1, "a": {"d": 2, "c": 3}}) == (
        '{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}\n'
    )


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"db_secret_arn": "arn:...", "db_password_parameter": "/x", "vpc_id": "v"}, []),
        ({"db_password": "hunter2"}, ["db_password"]),
        ({"db": {"Password": "x", "secret_name": "n"}}, ["db.Password"]),
        ({"items": [{"token": "t"}]}, ["items.0.token"]),
        ({"wp_salts": "x", "github_token_id": "i"}, ["wp_salts"]),
    ],
)
def test_secret_like_keys(values, expected):
    assert stack_outputs.secret_like_keys(values) == expected


# The module


def test_creates_directory_and_file(tmp_path, capsys):
    directory = tmp_path / "deep" / "outputs"
    result = run_module(capsys, directory=str(directory), stack="wp", values={"vpc_id": "vpc-1"})
    assert result["changed"] is True
    path = directory / "wp.json"
    assert result["outputs_path"] == str(path)
    on_disk = json.loads(path.read_text())
    assert on_disk == result["outputs"]
    assert on_disk["stack"] == "wp" and on_disk["vpc_id"] == "vpc-1" and on_disk["updated_at"].endswith("Z")
    assert path.read_text() == stack_outputs.render(on_disk)
    # No temporary file is left behind.
    assert sorted(os.listdir(directory)) == ["wp.json"]


def test_merges_into_existing_file(tmp_path, capsys):
    write_json(tmp_path / "wp.json", {"stack": "wp", "updated_at": STAMP, "vpc_id": "vpc-1"})
    result = run_module(capsys, directory=str(tmp_path), stack="wp", values={"ecr_repository_uri": "u"})
    assert result["changed"] is True
    on_disk = json.loads((tmp_path / "wp.json").read_text())
    assert on_disk["vpc_id"] == "vpc-1" and on_disk["ecr_repository_uri"] == "u"
    assert on_disk["updated_at"] != STAMP


def test_unchanged_values_leave_the_file_untouched(tmp_path, capsys):
    path = tmp_path / "wp.json"
    write_json(path, {"stack": "wp", "updated_at": STAMP, "vpc_id": "vpc-1", "azs": ["a", "b"]})
    os.utime(path, (1_000_000_000, 1_000_000_000))
    before = path.read_text()
    result = run_module(capsys, directory=str(tmp_path), stack="wp", values={"vpc_id": "vpc-1", "azs": ["a", "b"]})
    assert result["changed"] is False
    assert result["outputs"]["updated_at"] == STAMP
    assert path.read_text() == before
    assert path.stat().st_mtime == 1_000_000_000


def test_check_mode_reports_but_does_not_write(tmp_path, capsys):
    directory = tmp_path / "outputs"
    result = run_module(capsys, check_mode=True, directory=str(directory), stack="wp", values={"vpc_id": "vpc-1"})
    assert result["changed"] is True
    assert result["outputs"]["vpc_id"] == "vpc-1"
    assert not directory.exists()

    write_json(tmp_path / "wp.json", {"stack": "wp", "updated_at": STAMP, "vpc_id": "vpc-1"})
    before = (tmp_path / "wp.json").read_text()
    result = run_module(capsys, check_mode=True, directory=str(tmp_path), stack="wp", values={"vpc_id": "vpc-2"})
    assert result["changed"] is True
    assert (tmp_path / "wp.json").read_text() == before


def test_diff_shows_json_before_and_after(tmp_path, capsys):
    write_json(tmp_path / "wp.json", {"stack": "wp", "updated_at": STAMP, "vpc_id": "vpc-1"})
    result = run_module(
        capsys, check_mode=True, diff=True, directory=str(tmp_path), stack="wp", values={"vpc_id": "vpc-2"}
    )
    diff = result["diff"]
    assert json.loads(diff["before"])["vpc_id"] == "vpc-1"
    assert json.loads(diff["after"])["vpc_id"] == "vpc-2"
    assert diff["before_header"] == diff["after_header"] == str(tmp_path / "wp.json")

    result = run_module(capsys, diff=True, directory=str(tmp_path), stack="wp", values={"vpc_id": "vpc-1"})
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_no_diff_key_without_diff_mode(tmp_path, capsys):
    result = run_module(capsys, directory=str(tmp_path), stack="wp", values={"vpc_id": "vpc-1"})
    assert "diff" not in result


def test_remove_keys(tmp_path, capsys):
    write_json(tmp_path / "wp.json", {"stack": "wp", "updated_at": STAMP, "alb_dns_name": "d", "vpc_id": "v"})
    result = run_module(capsys, directory=str(tmp_path), stack="wp", remove=["alb_dns_name", "not_there"])
    assert result["changed"] is True
    assert "alb_dns_name" not in json.loads((tmp_path / "wp.json").read_text())

    result = run_module(capsys, directory=str(tmp_path), stack="wp", remove=["alb_dns_name"])
    assert result["changed"] is False


def test_read_of_missing_stack_creates_no_file(tmp_path, capsys):
    result = run_module(capsys, directory=str(tmp_path), stack="wp")
    assert result["changed"] is False
    assert result["outputs"] == {"stack": "wp"}
    assert not (tmp_path / "wp.json").exists()


def test_state_absent_removes_the_file(tmp_path, capsys):
    write_json(tmp_path / "wp.json", {"stack": "wp", "updated_at": STAMP})
    result = run_module(capsys, check_mode=True, directory=str(tmp_path), stack="wp", state="absent")
    assert result["changed"] is True and (tmp_path / "wp.json").exists()

    result = run_module(capsys, directory=str(tmp_path), stack="wp", state="absent")
    assert result["changed"] is True and result["outputs"] == {}
    assert not (tmp_path / "wp.json").exists()

    result = run_module(capsys, directory=str(tmp_path), stack="wp", state="absent")
    assert result["changed"] is False


def test_keeps_file_mode(tmp_path, capsys):
    path = tmp_path / "wp.json"
    write_json(path, {"stack": "wp", "updated_at": STAMP})
    path.chmod(0o600)
    run_module(capsys, directory=str(tmp_path), stack="wp", values={"vpc_id": "v"})
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "args, message",
    [
        ({"stack": "../etc/passwd"}, "not a valid file name"),
        ({"stack": ".hidden"}, "not a valid file name"),
        ({"values": {"stack": "other"}}, "reserved keys stack"),
        ({"values": {"db_password": "hunter2"}}, "db_password look like secrets"),
        ({"state": "absent", "remove": ["vpc_id"]}, "values and remove must be empty"),
    ],
)
def test_refuses_bad_input(tmp_path, capsys, args, message):
    args = dict({"directory": str(tmp_path), "stack": "wp"}, **args)
    result = run_module(capsys, **args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_refuses_to_overwrite_what_it_cannot_parse(tmp_path, capsys, content):
    (tmp_path / "wp.json").write_text(content)
    result = run_module(capsys, directory=str(tmp_path), stack="wp", values={"vpc_id": "v"})
    assert result["failed"] is True
    assert (tmp_path / "wp.json").read_text() == content
