"""The campaign day's two targets, each defined once, here, and every summary line derived from
the verdicts this module gives.

- **The 6 h sampling target** (F1.3): everyone who came to a site was swabbed within 6 h of the
  start.
- **The 24 h target** (F1.3): the same people, everyone who came, swabbed *and* their tubes
  resulted within 24 h of the start.

Both count the same people, the ones who came. Who never came (no-shows, nobody home, home
sampling) is in neither: they are the untested list's, and ``coverage_line`` says how many.
So the two verdicts cannot contradict each other: the 24 h target can be missed with the 6 h
one met only when the swabs were in time and the results were not, and its line then says so
(``Verdict.why`` is ``"results"``).
"""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.planning.sites import TARGET_HOURS

SAMPLING_HOURS = TARGET_HOURS  # sampling itself within 6 h of the start (F1.3)
DAY_HOURS = 24.0  # the area tested, swab to result, within 24 h (F1.3)

SAMPLING = "sampling"
DAY = "day"
MEASURES = {
    SAMPLING: "everyone who came, swabbed within 6 h of the start",
    DAY: "everyone who came, swabbed and resulted within 24 h of the start",
}
TITLES = {SAMPLING: "6 h sampling target", DAY: "24 h target"}


@dataclass(frozen=True)
class DayFigures:
    """The figures of one day (simulated or played) the targets are judged on."""

    residents: int  # on the roster
    sampled: int  # of them, swabbed: everyone who came
    sampled_by_target: int  # of them, swabbed within 6 h
    last_swab_hours: float | None
    tubes: int
    tubes_unresulted: int
    last_result_hours: float | None

    @property
    def never_came(self) -> int:
        return max(0, self.residents - self.sampled)


@dataclass(frozen=True)
class Verdict:
    target: str  # SAMPLING or DAY
    met: bool
    why: str  # "" when met; else "nobody", "sampling" or "results": what missed the deadline
    detail: str

    @property
    def hours(self) -> float:
        return SAMPLING_HOURS if self.target == SAMPLING else DAY_HOURS

    @property
    def title(self) -> str:
        return TITLES[self.target]

    @property
    def measures(self) -> str:
        return MEASURES[self.target]

    def line(self) -> str:
        word = "met" if self.met else "MISSED"
        return f"{self.title} ({self.measures}): {word}; {self.detail}"

    def as_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "hours": self.hours,
            "measures": self.measures,
            "met": self.met,
            "why": self.why,
            "detail": self.detail,
        }


def _at(hours: float | None) -> str:
    return "none" if hours is None else f"{hours:.2f} h"


def judge(f: DayFigures) -> tuple[Verdict, Verdict]:
    """The 6 h sampling verdict and the 24 h verdict of one day."""
    if f.last_swab_hours is None:
        nobody = "nobody was swabbed"
        return Verdict(SAMPLING, False, "nobody", nobody), Verdict(DAY, False, "nobody", nobody)
    swabs_in_time = f.last_swab_hours <= SAMPLING_HOURS
    if swabs_in_time:
        sampling = Verdict(
            SAMPLING,
            True,
            "",
            f"the last swab at {_at(f.last_swab_hours)}, "
            f"{SAMPLING_HOURS - f.last_swab_hours:.2f} h early",
        )
    else:
        sampling = Verdict(
            SAMPLING,
            False,
            "sampling",
            f"the last swab at {_at(f.last_swab_hours)}, "
            f"{f.last_swab_hours - SAMPLING_HOURS:.2f} h late; "
            f"{f.sampled_by_target:,} of {f.sampled:,} swabbed within 6 h",
        )
    results = f"the last result at {_at(f.last_result_hours)}, {f.tubes_unresulted:,} of " + (
        f"{f.tubes:,} tubes without one"
    )
    if f.last_swab_hours > DAY_HOURS:
        day = Verdict(DAY, False, "sampling", f"the last swab at {_at(f.last_swab_hours)}")
    elif f.tubes_unresulted or f.last_result_hours is None or f.last_result_hours > DAY_HOURS:
        day = Verdict(DAY, False, "results", f"swabs in time but not the lab: {results}")
    else:
        day = Verdict(DAY, True, "", results)
    return sampling, day


def coverage_line(f: DayFigures) -> str:
    """Who is in neither target: the residents who never came."""
    if not f.never_came:
        return f"In both targets: all {f.residents:,} residents came."
    return (
        f"In neither target: {f.never_came:,} of {f.residents:,} residents never came "
        "(no-shows, nobody home, home sampling); they stay on the untested list."
    )


def lines(f: DayFigures) -> list[str]:
    """The summary's target lines, each derived from ``judge``'s verdicts."""
    return [v.line() for v in judge(f)] + [coverage_line(f)]


@dataclass(frozen=True)
class Tally:
    """Over several simulated days: on how many each target was met."""

    days: int
    sampling: int
    day: int

    @classmethod
    def of(cls, figures: list[DayFigures]) -> Tally:
        verdicts = [judge(f) for f in figures]
        return cls(
            len(verdicts), sum(s.met for s, _d in verdicts), sum(d.met for _s, d in verdicts)
        )

    def line(self) -> str:
        return (
            f"the {TITLES[SAMPLING]} ({MEASURES[SAMPLING]}) met on {self.sampling} of "
            f"{self.days} simulated days; the {TITLES[DAY]} ({MEASURES[DAY]}) on {self.day} of "
            f"{self.days}"
        )
