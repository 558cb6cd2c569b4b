"""Reading a theater's gates from `.ironclaw.toml`, and running one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ironclaw.integration.adapters.gate_runner import run_gate
from ironclaw.integration.domain.gates import Gate, InvalidGateConfig, parse_gates


def test_gates_are_read_in_order_and_other_sections_are_left_alone() -> None:
    text = """
[theater]
mainline = "main"

[[gates]]
name = "lint"
run = "ruff check ."

[[gates]]
name = "tests"
run = "pytest -q"
timeout_s = 900
"""
    assert parse_gates(text) == [
        Gate(name="lint", run="ruff check ."),
        Gate(name="tests", run="pytest -q", timeout_s=900),
    ]
    assert parse_gates("") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[gates]\nname =", "invalid .ironclaw.toml: "),
        ('[[gates]]\nname = "a"\n', "gates.0.run: Field required"),
        ('[[gates]]\nname = "a"\nrun = "true"\ntimeout_s = 0\n', "gates.0.timeout_s"),
        ('gates = "pytest"\n', "gates: Input should be a valid list"),
        (
            '[[gates]]\nname = "a"\nrun = "true"\n[[gates]]\nname = "a"\nrun = "false"\n',
            "gate names repeated: ['a']",
        ),
    ],
)
def test_a_malformed_config_is_refused_with_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(InvalidGateConfig, match=r"invalid \.ironclaw\.toml") as refused:
        parse_gates(text)
    assert problem in str(refused.value)


def test_a_gate_keeps_the_end_of_a_long_output(tmp_path: Path) -> None:
    gate = Gate(name="noisy", run="head -c 5000 /dev/zero | tr '\\0' a; echo; echo done")

    run = run_gate(gate, tmp_path, default_timeout_s=10, max_output_bytes=1000)

    assert run.passed
    assert run.output.startswith("[first 4006 bytes of output cut]\n")
    assert run.output.endswith("a\ndone\n")


def test_a_gate_runs_in_the_worktree_and_its_children_do_not_outlive_it(tmp_path: Path) -> None:
    gate = Gate(name="bg", run="pwd; (sleep 30; touch late.txt) & echo started")

    run = run_gate(gate, tmp_path, default_timeout_s=10, max_output_bytes=10_000)

    assert run.passed
    assert run.output == f"{tmp_path}\nstarted\n"
    assert run.duration_s < 5


def test_binary_output_is_kept_without_nul_characters(tmp_path: Path) -> None:
    gate = Gate(name="binary", run="printf 'a\\0b\\377c'; exit 1")

    run = run_gate(gate, tmp_path, default_timeout_s=10, max_output_bytes=1000)

    assert (run.passed, run.exit_code) == (False, 1)
    assert run.output == "a\ufffdb\ufffdc"
