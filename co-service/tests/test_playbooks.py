"""Playbooks: the garrison's files load, keyword classification is scored and deterministic."""

from __future__ import annotations

from pathlib import Path

import pytest

from ironclaw.co.domain.classify import classify
from ironclaw.co.domain.drafts import PlanError
from ironclaw.co.domain.playbooks import PlaybookLibrary, load_playbooks

KINDS = ("bugfix", "chore", "docs", "feature", "refactor")


@pytest.fixture
def library(shipped_playbooks: Path) -> PlaybookLibrary:
    return load_playbooks(shipped_playbooks)


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.toml").write_text(text)


def playbook_toml(
    name: str, version: int = 1, keywords: str = "[]", default: bool = False, orders: str = ""
) -> str:
    orders = orders or '[[orders]]\nkey = "do"\nobjective = "Do: {message}"\n'
    return (
        f'name = "{name}"\nversion = {version}\ndescription = "{name} v{version}"\n'
        f"keywords = {keywords}\ndefault = {str(default).lower()}\n{orders}"
    )


def test_the_garrison_ships_the_five_kinds_with_feature_as_default(
    library: PlaybookLibrary,
) -> None:
    assert library.problems == ()
    assert [p.name for p in library.newest] == list(KINDS)
    assert library.default().name == "feature"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Add a /health endpoint that returns the version", "feature"),
        ("Implement CSV export for the report page", "feature"),
        ("Fix the crash when the config file is empty", "bugfix"),
        ("Login is broken: it raises an exception on unicode passwords", "bugfix"),
        ("Fix the typo in the README", "docs"),
        ("Document the retry options in the guide", "docs"),
        ("Refactor the parser: extract the tokenizer into its own module", "refactor"),
        ("Rename UserManager to Accounts and simplify its constructor", "refactor"),
        ("Bump the dependencies and pin ruff", "chore"),
        ("Upgrade the CI configuration to Python 3.12", "chore"),
    ],
)
def test_each_kind_of_request_is_classified_to_its_playbook(
    library: PlaybookLibrary, message: str, kind: str
) -> None:
    chosen = classify(message, library)

    assert chosen.playbook.name == kind
    assert chosen.score > 0
    assert kind in chosen.rationale


def test_inflections_and_phrases_match(library: PlaybookLibrary) -> None:
    chosen = classify("The export doesn't work and crashes; nothing was fixed", library)

    assert chosen.playbook.name == "bugfix"
    assert {"doesn't work", "crash", "fix"} <= set(chosen.matched)


def test_a_request_matching_nothing_gets_the_default_playbook(library: PlaybookLibrary) -> None:
    chosen = classify("hello there", library)

    assert (chosen.playbook.name, chosen.score) == ("feature", 0)
    assert "default" in chosen.rationale


def test_a_tie_goes_to_the_name_that_sorts_first(tmp_path: Path) -> None:
    write(tmp_path, "zeta", playbook_toml("zeta", keywords='["deploy"]', default=True))
    write(tmp_path, "alpha", playbook_toml("alpha", keywords='["deploy"]'))
    library = load_playbooks(tmp_path)

    assert {classify("deploy it", library).playbook.name for _ in range(5)} == {"alpha"}


def test_the_newest_version_is_used_unless_a_version_is_asked_for(tmp_path: Path) -> None:
    write(tmp_path, "feature", playbook_toml("feature", 1, default=True))
    write(tmp_path, "feature-v2", playbook_toml("feature", 2, default=True))
    library = load_playbooks(tmp_path)

    assert library.find("feature").ref == "feature@2"
    assert library.find("feature@1").ref == "feature@1"
    with pytest.raises(
        PlanError, match="unknown playbook 'feature@3'; known: feature@1, feature@2"
    ):
        library.find("feature@3")


def test_templates_expand_the_message_and_never_template_commands(tmp_path: Path) -> None:
    orders = (
        '[[orders]]\nkey = "build"\nobjective = "Build {message} in {theater}"\n'
        'commands = ["echo {message}"]\n'
        '[[orders]]\nkey = "check"\nobjective = "Check {message}"\ndepends_on = ["build"]\n'
        'success_criteria = ["{message} works"]\n'
    )
    write(tmp_path, "two", playbook_toml("two", default=True, orders=orders))

    build, check = load_playbooks(tmp_path).find("two").expand(message="it {x}", theater="web")

    assert build.objective == "Build it {x} in web"
    assert build.commands == ("echo {message}",)
    assert (check.depends_on, check.success_criteria) == (("build",), ("it {x} works",))
    assert build.task_type == "two"


@pytest.mark.parametrize(
    ("orders", "problem"),
    [
        ('[[orders]]\nkey = "a"\nobjective = "{secret}"\n', "unknown placeholder {secret}"),
        ('[[orders]]\nkey = "a"\nobjective = "{message.__class__}"\n', "unknown placeholder"),
        (
            '[[orders]]\nkey = "a"\nobjective = "x"\ndepends_on = ["b"]\n'
            '[[orders]]\nkey = "b"\nobjective = "y"\ndepends_on = ["a"]\n',
            "cycle: a -> b -> a",
        ),
        ('[[orders]]\nkey = "Bad Key"\nobjective = "x"\n', "orders.0.key"),
    ],
    ids=["unknown-placeholder", "attribute-access", "cycle", "bad-key"],
)
def test_a_broken_playbook_file_is_refused_and_the_others_still_load(
    tmp_path: Path, orders: str, problem: str
) -> None:
    write(tmp_path, "good", playbook_toml("good", default=True))
    write(tmp_path, "broken", playbook_toml("broken", orders=orders))

    library = load_playbooks(tmp_path)

    assert [p.name for p in library.newest] == ["good"]
    (refused,) = library.problems
    assert refused.startswith("broken.toml: ")
    assert problem in refused


def test_unreadable_toml_and_a_missing_folder_are_clear_errors(tmp_path: Path) -> None:
    write(tmp_path, "bad", "name = [unclosed")

    with pytest.raises(PlanError, match=r"no usable playbook .* bad.toml: cannot be read"):
        load_playbooks(tmp_path)
    with pytest.raises(PlanError, match="IRONCLAW_GARRISON_DIR"):
        load_playbooks(tmp_path / "missing")
