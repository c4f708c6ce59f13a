"""What a load run does: closed loop, open loop or a step profile; parsed and validated from CLI strings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kslab.errors import UsageError
from kslab.util.durations import duration_seconds

DEFAULT_CONCURRENCY = 10
DEFAULT_DURATION_S = 10.0
MAX_RATE_RPS = 1_000_000.0  # far past what one machine's generator drives; 1e12 is a typo, not a plan
FD_RESERVE = 64  # files a worker keeps open besides its connections (the interpreter, the loop, stdio, logs)


@dataclass(frozen=True)
class Step:
    """One phase of a run. ``level`` is connections (closed loop) or requests per second (open loop)."""

    level: float
    duration_s: float | None  # None: until ``requests`` are done
    requests: int | None = None


@dataclass(frozen=True)
class LoadPlan:
    mode: str  # closed | open | profile
    steps: tuple[Step, ...]
    connections: int  # closed loop: per step from the step's level; open loop: the pool size
    warmup_s: float = 0.0
    timeout_s: float = 10.0
    workers: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def for_worker(self, index: int) -> LoadPlan:
        """This worker's share: levels and request counts split evenly (remainders to the first workers)."""
        steps = tuple(Step(_share(s.level, index, self.workers, self.mode != "open"), s.duration_s,
                           None if s.requests is None else int(_share(s.requests, index, self.workers, True)))
                      for s in self.steps)
        connections = int(_share(self.connections, index, self.workers, True)) or 1
        return LoadPlan(self.mode, steps, connections, self.warmup_s, self.timeout_s, 1, self.extra)


def _share(total: float, index: int, parts: int, whole: bool) -> float:
    if not whole:
        return total / parts
    base, rest = divmod(int(total), parts)
    return base + (1 if index < rest else 0)


def parse_duration(text: str, option: str = "--duration", *, allow_zero: bool = False) -> float:
    """'30s', '2m', '500ms', '1h' or a plain number of seconds → seconds (> 0, or >= 0 with ``allow_zero``)."""
    seconds = duration_seconds(text, allow_zero=allow_zero)
    if seconds is None:
        raise UsageError(f"{option} {text!r} is not a positive duration", "examples: 30s, 2m, 500ms")
    return seconds


def parse_profile(text: str) -> tuple[Step, ...]:
    """'10,20,50,100@30s' → four steps of 30 s at concurrency 10, 20, 50 and 100."""
    levels_text, _, duration_text = text.partition("@")
    if not duration_text:
        raise UsageError(f"--profile {text!r} has no step duration", "example: --profile 10,20,50,100@30s")
    duration = parse_duration(duration_text, "--profile")
    try:
        levels = [int(part) for part in levels_text.split(",")]
    except ValueError:
        raise UsageError(f"--profile {text!r}: levels must be whole numbers",
                         "example: --profile 10,20,50,100@30s") from None
    if not levels or min(levels) < 1:
        raise UsageError(f"--profile {text!r}: every level must be at least 1")
    return tuple(Step(float(level), duration) for level in levels)


def build_plan(*, concurrency: int | None, duration: str | None, requests: int | None, rate: float | None,
               profile: str | None, warmup: str | None, timeout: str | None, workers: int,
               here: bool = True) -> LoadPlan:
    """Check the flags against each other and return the plan; UsageError (exit 2) on a bad combination.
    ``here``: this process drives it, so its connections must fit the open-file limit (not so in-cluster)."""
    if requests is not None and duration is not None:
        raise UsageError("--requests and --duration exclude each other", "give one of them")
    if rate is not None and profile is not None:
        raise UsageError("--rate and --profile exclude each other", "--profile steps concurrency levels")
    if requests is not None and requests < 1:
        raise UsageError("--requests must be at least 1")
    if concurrency is not None and concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if rate is not None and not 0 < rate <= MAX_RATE_RPS:  # also NaN and inf
        raise UsageError(f"--rate {rate:g} is not a rate kslab can drive: give 0 < rate <= {MAX_RATE_RPS:,.0f} "
                         "requests per second", "for more, run several generators (--in-cluster --pods N)")
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    warmup_s = parse_duration(warmup, "--warmup", allow_zero=True) if warmup else 0.0
    timeout_s = parse_duration(timeout, "--timeout") if timeout else 10.0
    if profile is not None:
        if requests is not None or duration is not None:
            raise UsageError("--profile sets its own step duration", "drop --duration/--requests")
        steps = parse_profile(profile)
        plan = LoadPlan("profile", steps, int(max(s.level for s in steps)), warmup_s, timeout_s, workers)
    else:
        duration_s = parse_duration(duration) if duration else (None if requests else DEFAULT_DURATION_S)
        if rate is not None:
            connections = concurrency or max(DEFAULT_CONCURRENCY, min(256, int(rate // 100)))
            plan = LoadPlan("open", (Step(rate, duration_s, requests),), connections, warmup_s, timeout_s, workers)
        else:
            connections = concurrency or DEFAULT_CONCURRENCY
            plan = LoadPlan("closed", (Step(float(connections), duration_s, requests),), connections,
                            warmup_s, timeout_s, workers)
    if plan.connections < workers:
        raise UsageError(f"--workers {workers} is more than the {plan.connections} connections to share",
                         "lower --workers or raise --concurrency")
    if requests is not None and warmup_s:
        raise UsageError("--warmup needs a timed run", "use --duration with --warmup")
    _check_warmup(plan)
    if here:
        check_open_files(plan)
    return plan


def _check_warmup(plan: LoadPlan) -> None:
    """A warm-up as long as the run leaves nothing to measure."""
    timed = [s.duration_s for s in plan.steps if s.duration_s is not None]
    if plan.warmup_s and timed and plan.warmup_s >= sum(timed):
        raise UsageError(f"--warmup {plan.warmup_s:g}s is not shorter than the run ({sum(timed):g}s): nothing "
                         "would be measured", "shorten --warmup or lengthen --duration")


def check_open_files(plan: LoadPlan, limits: tuple[int, int] | None = None, *, subject: str | None = None,
                     more_workers: bool = True) -> None:
    """Each worker holds its share of the connections open at once: refuse a plan past the open-file limit
    (RLIMIT_NOFILE, ``limits`` = (soft, hard)) instead of failing thousands of connects or hanging.
    ``subject`` names what sets the connections (default: the flag); ``more_workers`` False when the caller
    has no --workers to offer (the lab)."""
    import resource

    soft, hard = limits or resource.getrlimit(resource.RLIMIT_NOFILE)
    per_worker = -(-plan.connections // plan.workers)
    needed = per_worker + FD_RESERVE
    if soft == resource.RLIM_INFINITY or needed <= soft:
        return
    flag = subject or ("--concurrency" if plan.mode != "profile" else "--profile's top level")
    spread = ", or spread it over more --workers" if more_workers else ""
    if hard == resource.RLIM_INFINITY or needed <= hard:
        hint = f"raise the limit first (ulimit -n {needed}) or lower {flag}{spread}"
    else:
        hint = f"the hard limit is {hard}: lower {flag} to at most {max(hard - FD_RESERVE, 1)} per worker{spread}"
    raise UsageError(f"{flag} {plan.connections} needs {needed} open files per load worker, more than this "
                     f"process may open ({soft}, ulimit -n)", hint)
