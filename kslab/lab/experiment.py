"""`kslab lab`: the whole experiment in one run, every step in the run record.

up (cluster providers) → deploy → smoke → scenarios → load; the CLI renders the report afterwards,
whatever happened. Provider local needs no cluster: the model is built and served by the real KServe
model server on 127.0.0.1, and the scenarios (which need Kubernetes) are recorded as skipped with the
reason. A failed smoke skips what depends on a working model; a failed scenario does not stop the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kslab.config.model import Settings
from kslab.errors import CheckFailed, ConfigError, UsageError
from kslab.inference.smoke import SmokeReport
from kslab.lab.smoke import smoke
from kslab.models.run_record import RunRecord
from kslab.session import Session

Observer = Callable[[str, str, str], None]
MODEL = "sklearn-iris"
NEEDS_CLUSTER = "needs a cluster provider (provider local has no Kubernetes)"
SMOKE_FAILED = "skipped: the smoke checks failed, so the model does not answer correctly"


@dataclass
class LabOptions:
    keep: bool = False  # leave the model (local) deployed afterwards
    down: bool = False  # delete the cluster afterwards (only one kslab created)
    scenarios: str | None = None  # "all", "none" or a comma list; None: settings.lab.scenarios
    load: bool = True


@dataclass
class LabResult:
    smoke: SmokeReport | None = None
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    load: dict[str, Any] | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    load_failure: str | None = None  # why the load step failed (nothing answered), kslab.load.verdict
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed_scenarios(self) -> list[str]:
        return [s["name"] for s in self.scenarios if s.get("verdict") in ("failed", "error")]


def _skip(record: RunRecord, name: str, reason: str, result: LabResult, observe: Observer) -> None:
    with record.step(name) as obs:
        obs.update(_result="skipped", reason=reason)
    result.skipped[name] = reason
    observe(name, "skip", reason)


def _deploy(session: Session, observe: Observer, result: LabResult) -> None:
    settings, local = session.settings, session.provider.runtime
    if local is not None:
        observe("deploy", "install", f"{MODEL} on the local KServe model server")
        status = local.deploy(MODEL, record=session.record, replace=False)  # never stops a server it did not start
        result.details["deploy"] = status.to_dict()
        observe("deploy", "ready", status.to_dict().get("url", ""))
        return
    from kslab.deploy.request import DeployRequest
    from kslab.deploy.service import deploy

    request = DeployRequest(name=MODEL, mode=settings.mode, timeout=float(settings.timeouts.deploy)).validate()
    result.details["deploy"] = deploy(session, request, observe).to_dict()


def check_settings(settings: Settings, options: LabOptions) -> None:
    """What the lab will read from the settings, checked before any work (no cluster, deploy or record yet):
    the scenario names, the load profile and its warm-up as a plan, and its top level against the open-file
    limit (as `kslab load` checks -c). A bad value is a ConfigError naming the key (or the flag)."""
    _check_scenarios(settings, options.scenarios)
    if not options.load:
        return
    from kslab.lab.load_step import lab_plan
    from kslab.load.plan import check_open_files

    lab = settings.lab
    try:
        plan = lab_plan(settings)
    except UsageError as exc:
        detail = exc.message.replace("--profile", "the profile").replace("--warmup", "the warm-up")
        raise ConfigError(f"lab.load_profile {lab.load_profile!r} with lab.load_warmup {lab.load_warmup!r}: "
                          f"{detail}", "fix lab.load_profile / lab.load_warmup in kslab.yaml (or "
                          "KSLAB_LAB__LOAD_PROFILE), or run with --no-load") from None
    try:
        check_open_files(plan, subject="the profile's top level", more_workers=False)
    except UsageError as exc:
        raise ConfigError(f"lab.load_profile {lab.load_profile!r}: {exc.message}",
                          f"{exc.hint} (lab.load_profile in kslab.yaml or KSLAB_LAB__LOAD_PROFILE), or run with "
                          "--no-load") from None


def _check_scenarios(settings: Settings, chosen: str | None) -> None:
    """Every name in --scenarios (or lab.scenarios) must be a scenario: a typo is refused before any work, not
    found after the deploy."""
    from kslab.scenarios.catalog import known_names, unknown_names
    from kslab.scenarios.validate import did_you_mean

    unknown = unknown_names(scenario_names(settings, chosen))
    if not unknown:
        return
    known = known_names()
    where = f"--scenarios {chosen!r}" if chosen is not None else f"lab.scenarios {settings.lab.scenarios!r}"
    named = ", ".join(repr(name) for name in unknown)
    fix = ("give names from 'kslab scenario list', 'all' or 'none'" if chosen is not None else
           "fix lab.scenarios in kslab.yaml (or KSLAB_LAB__SCENARIOS), or pass --scenarios")
    raise ConfigError(f"{where}: no scenario named {named}{did_you_mean(unknown[0], known)}; known: "
                      f"{', '.join(known)}", fix)


def scenario_names(settings: Settings, chosen: str | None) -> list[str]:
    """The scenarios to run: --scenarios, else ``lab.scenarios`` ("all", "none" or a comma list)."""
    text = (settings.lab.scenarios if chosen is None else chosen).strip()
    if text == "none":
        return []
    if text == "all":
        from kslab.scenarios.catalog import builtin_names

        return builtin_names()
    return [n.strip() for n in text.split(",") if n.strip()]


def _scenarios(session: Session, record: RunRecord, observe: Observer, result: LabResult,
               names: list[str]) -> None:
    if not names:
        _skip(record, "scenarios", "none chosen (lab.scenarios: none)", result, observe)
        return
    if not session.provider.has_cluster:
        _skip(record, "scenarios", NEEDS_CLUSTER, result, observe)
        return
    from kslab.scenarios.engine import run_scenarios

    result.scenarios = run_scenarios(session, names, observe)


def _load(session: Session, record: RunRecord, observe: Observer, result: LabResult) -> None:
    from kslab.lab.load_step import lab_plan, load_model
    from kslab.load.verdict import LoadFailed

    settings = session.settings
    plan = lab_plan(settings)
    observe("load", "run", f"profile {settings.lab.load_profile} against {MODEL}")

    def progress(live: dict[str, Any]) -> None:  # 'c=10 (2/4) 7s/20s: 950 req/s, p99 3.1 ms, errors 0'
        from kslab.load.aggregate import level_text

        p99 = "-" if live["p99_ms"] is None else f"{live['p99_ms']:.1f} ms"
        level = level_text(live.get("level"))
        observe("load", "load", (f"{level}: " if level else "")
                + f"{live['rps']:.0f} req/s, p99 {p99}, errors {live['errors']}")

    try:
        result.load = load_model(session, MODEL, plan, record, progress=progress)
    except LoadFailed as failed:  # recorded as a failed step with the reason; the lab fails at the end
        result.load, result.load_failure = failed.result, failed.message
        observe("load", "failed", failed.message)
        return
    latency = result.load["latency"]
    observe("load", "ok", f"{result.load['throughput_rps']} req/s, p50 {latency['p50_ms']} ms, "
                          f"p99 {latency['p99_ms']} ms")


def _finish_local(session: Session, options: LabOptions) -> None:
    local = session.provider.runtime
    if local is not None and not options.keep:
        local.release(MODEL)  # only the server this run started: a user's earlier `kslab deploy` keeps running


def _down(session: Session, record: RunRecord, observe: Observer) -> None:
    from kslab.lab.teardown import plan_teardown, run_teardown

    with record.step("down") as obs:
        plan = plan_teardown(session, uninstall_stack=False)
        obs["plan"] = plan.describe()
        if plan.empty:
            obs["_result"] = "skipped"
            return
        run_teardown(session, plan, on_line=lambda line: observe("down", "delete", line))


def run_lab(session: Session, observe: Observer, options: LabOptions | None = None) -> LabResult:
    """Run the experiment into the session's record; raises CheckFailed (exit 1) when smoke, a scenario or the
    load (nothing answered) failed, after recording all."""
    options = options or LabOptions()
    settings, record, provider = session.settings, session.require_record(), session.provider
    result = LabResult()
    try:
        if provider.has_cluster:
            from kslab.lab.cluster import bring_up

            result.details["up"] = bring_up(session, observer=observe).provider
        _deploy(session, observe, result)
        counts = {"done": 0, "ok": 0}

        def on_check(check: Any) -> None:  # the row reads "12/14 ok: v2 infer batch", not only the last check
            counts["done"] += 1
            counts["ok"] += bool(check.ok)
            observe("smoke", "check", f"{counts['ok']}/{counts['done']} ok: {check.name}")
        result.smoke = smoke(session, MODEL, on_check=on_check)
        report = result.smoke
        observe("smoke", "ok" if report.ok else "failed", f"{len(report.checks) - len(report.failed)}/"
                                                           f"{len(report.checks)} passed")
        if not result.smoke.ok:
            _skip(record, "scenarios", SMOKE_FAILED, result, observe)
            _skip(record, "load", SMOKE_FAILED, result, observe)
        else:
            _scenarios(session, record, observe, result, scenario_names(settings, options.scenarios))
            if options.load:
                _load(session, record, observe, result)
            else:
                _skip(record, "load", "not requested (--no-load)", result, observe)
    finally:
        _finish_local(session, options)
        if options.down and provider.has_cluster:
            _down(session, record, observe)
    problems = []
    if result.smoke is not None and not result.smoke.ok:
        problems.append("smoke checks failed: " + ", ".join(c.name for c in result.smoke.failed))
    if result.failed_scenarios:
        problems.append("scenarios failed: " + ", ".join(result.failed_scenarios))
    if result.load_failure is not None:
        problems.append(f"load failed: {result.load_failure}")
    if problems:
        raise CheckFailed("; ".join(problems), f"see {record.path} and the report beside it")
    return result
