"""Keyword classification of a request: which playbook fits it, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ironclaw.co.domain.playbooks import Playbook, PlaybookLibrary

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words_of(text: str) -> list[str]:
    """The lowercase words of `text` (apostrophes inside words kept: `doesn't`)."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _inflections(word: str) -> set[str]:
    """`word` and the plain English inflections a keyword should also match."""
    forms = {word, f"{word}s", f"{word}es", f"{word}ed", f"{word}d", f"{word}ing"}
    if word.endswith("e"):
        forms.add(f"{word[:-1]}ing")
    if word.endswith("y"):
        forms.update({f"{word[:-1]}ies", f"{word[:-1]}ied"})
    return forms


def keyword_found(keyword: str, words: list[str]) -> bool:
    """Whether the keyword (a word or a phrase) occurs in `words`, inflections allowed."""
    wanted = [_inflections(part) for part in words_of(keyword)]
    if not wanted:
        return False
    span = len(wanted)
    return any(
        all(words[start + n] in forms for n, forms in enumerate(wanted))
        for start in range(len(words) - span + 1)
    )


@dataclass(frozen=True)
class Classification:
    """The playbook chosen for a request, with its score and the keywords that matched."""

    playbook: Playbook
    score: int
    matched: tuple[str, ...]
    runners_up: tuple[tuple[str, int], ...] = ()

    @property
    def rationale(self) -> str:
        if not self.score:
            return f"no playbook keyword matched; {self.playbook.ref} is the default"
        matched = ", ".join(self.matched)
        found = f"classified as {self.playbook.name} (score {self.score}: {matched})"
        if self.runners_up:
            others = ", ".join(f"{name} {score}" for name, score in self.runners_up)
            found += f"; also scored: {others}"
        return found


def classify(message: str, library: PlaybookLibrary) -> Classification:
    """The best-scoring playbook for `message`: each matched keyword scores its word count.

    Ties go to the name that sorts first; with no match at all, the default playbook.
    """
    words = words_of(message)
    scored = []
    for playbook in library.newest:
        matched = tuple(k for k in playbook.keywords if keyword_found(k, words))
        score = sum(len(words_of(k)) for k in matched)
        scored.append((-score, playbook.name, playbook, matched))
    scored.sort(key=lambda item: (item[0], item[1]))
    best_score, _, best, matched = scored[0]
    if best_score == 0:
        return Classification(library.default(), 0, ())
    runners_up = tuple((name, -score) for score, name, _, _ in scored[1:] if score < 0)
    return Classification(best, -best_score, matched, runners_up)
