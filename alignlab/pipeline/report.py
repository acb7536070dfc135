"""The `report` stage: one self-contained HTML page for the whole pipeline, every round side by side.

On top: the headline (the last round's policy against the baseline on held-out prompts judged by the hidden
rule: win rate with its 95% CI and what it means; FLAGGED, not celebrated, when the eval stage's degeneration
guard tripped), the generation-quality table (baseline and every round: distinct-n, repetition, length, EOS
share, reference perplexity, sampled KL, each with its interval, and the guard's verdict), then one row per
round: pairs annotated (new and in all), annotator agreement, how the batch was chosen, reward-model held-out
accuracy against the panel's agreement ceiling, the policy's mean reward against the baseline's, the rule win
rate with CI, and the change in bias and safety suites against the baseline's evaluation; side-by-side samples
(the same held-out prompts: the baseline and every round); then the stages' wall times. Below it comes the
benchmark report (`alignlab.report`) of every eval folder, training run (every trained stage, each reward-
ensemble member on its own, so each has its curves), data audit and agreement file the pipeline wrote, in the
same page (same escaping, no scripts, the same content-security policy).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field

from alignlab.config.base import StrictModel
from alignlab.pipeline.report_quality import (
    QUALITY_METRICS,
    agreement_ceiling,
    guard_note,
    interval,
    quality_rows,
    samples_table,
    training_runs,
)

DELTA_CATEGORIES = ("bias", "safety", "toxicity", "multilingual")

SECTION = """
<h2>Pipeline: {{ name }} &mdash; {{ rounds | length }} feedback round{{ "s" if rounds | length != 1 }}</h2>
{% if headline %}
{% if headline.flagged %}
<p style="font-size:1.15em;border:2px solid #b00;padding:.4em"><strong style="color:#b00">FLAGGED: degenerate
policy.</strong> <strong>{{ headline.model_label }}</strong> scores a win rate of {{ headline.value | pct }}
<span class="ci">[{{ headline.low | pct }}, {{ headline.high | pct }}]</span> against
<strong>{{ headline.baseline_label }}</strong> under the hidden rule <code>{{ rule }}</code>, but its generations
degenerated, so the win is not to be trusted (the judge is being gamed):
{% for reason in headline.reasons %}{{ reason }}{{ "; " if not loop.last }}{% endfor %}.
{% if headline.action == "reject" %}The guard rejected this round; the pipeline kept {{ headline.kept or "the
previous policy" }}.{% elif headline.action == "stop" %}The guard stopped the feedback loop here.{% endif %}</p>
{% else %}
<p style="font-size:1.15em"><strong>{{ headline.model_label }}</strong> vs
<strong>{{ headline.baseline_label }}</strong> on {{ headline.n }} held-out prompts judged by the hidden rule
<code>{{ rule }}</code>:
win rate <strong>{{ headline.value | pct }}</strong>
<span class="ci">95% CI [{{ headline.low | pct }}, {{ headline.high | pct }}]</span> &mdash; {{ headline.verdict }}.
{% if headline.quality %}Its generations pass the degeneration guard: distinct-2 {{ headline.quality }}.{% endif %}</p>
{% endif %}
{% if quality_rows %}
<h3>Generation quality beside the win rate (95% intervals)</h3>
<table>
  <tr><th>policy</th><th>rule win rate vs baseline</th><th>distinct-1</th><th>distinct-2</th>
      <th>repeated bigrams</th><th>words</th><th>finished (EOS)</th><th>reference perplexity</th>
      <th>sampled KL to reference (nats)</th><th>guard</th></tr>
{% for q in quality_rows %}
  <tr{% if q.flagged %} style="background:#fdd"{% endif %}><td>{{ q.label }}</td>
      <td>{% if q.win %}{{ q.win.value | pct }} <span class="ci">[{{ q.win.low | pct }}, {{ q.win.high | pct }}]
          </span>{% else %}&ndash;{% endif %}</td>
      {% for name in quality_metrics %}<td>{{ q.metrics[name] | interval }}</td>{% endfor %}
      <td>{% if q.flagged %}<strong style="color:#b00">FLAGGED ({{ q.action }})</strong>: {% for r in q.reasons
          %}{{ r }}{{ "; " if not loop.last }}{% endfor %}{% elif q.checked %}ok{% else %}&ndash;{% endif %}</td></tr>
{% endfor %}
</table>
<p class="note">Distinct-n: unique word n-grams / all n-grams over every answer; repeated bigrams: share of an
answer's bigrams that repeat an earlier one; reference perplexity: the answers under {{ reference_label }};
sampled KL: mean of log &pi;(y|x) &minus; log &pi;<sub>ref</sub>(y|x) over the policy's own samples. A round is
flagged when {{ guard_note }}.</p>
{% endif %}
{% else %}
<p class="note">No rule win rate was measured (the eval stage has no baseline or rule_winrate.prompts is 0).</p>
{% endif %}
<table>
  <tr><th>round</th><th>pairs new / all</th><th>agreement (mean, &alpha;)</th><th>batch chosen by</th>
      <th>RM accuracy / agreement ceiling</th><th>reward: policy / baseline</th>
      <th>rule win rate vs baseline [95% CI]</th>
      <th>ties</th><th>bias &Delta;</th><th>safety &Delta;</th></tr>
{% for r in rounds %}
  <tr><td>{{ r.round }}</td><td>{{ r.new_pairs | num }} / {{ r.total_pairs | num }}</td>
      <td>{{ r.agreement | num }}, {{ r.alpha | num }}</td><td>{{ r.selection }}</td>
      <td>{{ r.rm_accuracy | num }} / {{ r.ceiling | num }}</td>
      <td>{{ r.reward | num }} / {{ r.baseline_reward | num }}</td>
      <td>{% if r.win %}{{ r.win.value | pct }}
          <span class="ci">[{{ r.win.low | pct }}, {{ r.win.high | pct }}]</span>{% else %}&ndash;{% endif %}</td>
      <td>{{ r.tie_rate | num }}</td>
      <td>{% for d in r.bias %}{{ d }}<br>{% else %}&ndash;{% endfor %}</td>
      <td>{% for d in r.safety %}{{ d }}<br>{% else %}&ndash;{% endfor %}</td></tr>
{% endfor %}
</table>
<p class="note">Deltas are each suite's headline metric minus the baseline evaluation's ({{ delta_note }}).
Agreement ceiling: the held-out accuracy a reward model that knew the hidden rule would score against the
panel's majority labels (labels of pairs the rule ties are coin flips; with noisy raters some majorities are
wrong); a reward model near its ceiling has learned what the labels can teach.</p>
{% if samples %}
<h3>Side-by-side samples: the same held-out prompts, baseline and every round</h3>
<table>
  <tr><th>prompt</th><th>{{ samples.baseline_label }}</th>{% for label in samples.labels %}<th>{{ label }}</th>
      {% endfor %}</tr>
{% for row in samples.rows %}
  <tr><td>{{ row.prompt }}</td><td>{{ row.baseline }}</td>{% for answer in row.answers %}<td>{{ answer }}</td>
      {% endfor %}</tr>
{% endfor %}
</table>
{% endif %}
{% if timings %}
<details><summary>Stage wall times ({{ total_s | num }} s in all)</summary>
<table><tr><th>stage</th><th>kind</th><th>seconds</th><th>peak RSS (MB)</th><th>reused</th></tr>
{% for t in timings %}<tr><td>{{ t.key }}</td><td>{{ t.kind }}</td><td>{{ t.seconds | num }}</td>
<td>{{ t.peak_rss_mb | num }}</td><td>{{ "yes" if t.reused else "" }}</td></tr>{% endfor %}
</table></details>
{% endif %}
"""


class ReportOptions(StrictModel):
    title: str = Field("alignlab pipeline report", description="Page title.")
    examples_per_suite: int = Field(2, ge=0)


def _suite_headlines(folder: str | None) -> dict[str, tuple[str, str, float]]:
    """suite -> (category, headline metric, value) of an eval folder's summary.json."""
    if not folder or not (Path(folder) / "summary.json").is_file():
        return {}
    summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    out = {}
    for name, info in (summary.get("suites") or {}).items():
        order = info.get("metric_order") or list(info.get("metrics") or {})
        if order and info["metrics"][order[0]].get("value") is not None:
            out[name] = (info.get("category") or "", order[0], float(info["metrics"][order[0]]["value"]))
    return out


def _deltas(mine: dict, base: dict, category: tuple[str, ...]) -> list[str]:
    return [f"{suite}.{metric} {value - base[suite][2]:+.3f}" for suite, (cat, metric, value) in mine.items()
            if cat in category and suite in base]


def round_rows(context: Any) -> list[dict[str, Any]]:
    by_round: dict[Any, dict[str, Any]] = {}
    for role in ("annotations", "reward_models", "evals"):
        for item in context.inputs.get(role) or []:
            by_round.setdefault(item.get("round"), {})[role] = item
    base_eval = context.inputs.get("baseline_eval") or []
    base = _suite_headlines(base_eval[0].get("suites")) if base_eval else {}
    rows = []
    for number in sorted(by_round, key=lambda r: (r is None, r or 0)):
        parts = by_round[number]
        notes = (parts.get("annotations") or {}).get("metrics") or {}
        rm = (parts.get("reward_models") or {}).get("metrics") or {}
        evaluation = parts.get("evals") or {}
        rule = (evaluation.get("metrics") or {}).get("rule") or {}
        suites = _suite_headlines(evaluation.get("suites"))
        rows.append({
            "round": number if number is not None else "-", "new_pairs": notes.get("new_pairs"),
            "total_pairs": notes.get("total_pairs"), "agreement": notes.get("mean_agreement"),
            "alpha": notes.get("krippendorff_alpha"), "selection": _selection(context, number),
            "rm_accuracy": rm.get("accuracy"), "ceiling": agreement_ceiling(notes), "reward": rule.get("reward"),
            "baseline_reward": rule.get("baseline_reward"), "win": rule.get("win_rate"),
            "tie_rate": rule.get("tie_rate"), "eval_metrics": rule,
            "bias": _deltas(suites, base, ("bias",)), "safety": _deltas(suites, base, DELTA_CATEGORIES[1:]),
        })
    return rows


def _selection(context: Any, number: Any) -> str:
    for item in context.finished:
        if item.get("kind") == "generate" and item.get("round") == number:
            return str((item.get("metrics") or {}).get("strategy", ""))
    return ""


def _headline(rows: list[dict[str, Any]], context: Any) -> dict[str, Any] | None:
    last = next((r for r in reversed(rows) if r["win"]), None)
    if last is None:
        return None
    win = last["win"]
    guard = ((last.get("eval_metrics") or {}).get("guard")) or {}
    verdict = ("the aligned policy is preferred (the CI lies above 50%)" if win["low"] > 0.5 else
               "the baseline is preferred (the CI lies below 50%)" if win["high"] < 0.5 else
               "no clear difference (the CI contains 50%)")
    evals = [e for e in context.inputs.get("evals") or [] if e.get("round") == last["round"]] or \
        (context.inputs.get("evals") or [])[-1:]
    quality = (last.get("eval_metrics") or {}).get("quality") or {}
    base = (last.get("eval_metrics") or {}).get("baseline_quality") or {}
    healthy = (f"{interval(quality['distinct_2'])} vs {interval(base.get('distinct_2'))} for the baseline, reference "
               f"perplexity {interval(quality.get('reference_perplexity'))} vs "
               f"{interval(base.get('reference_perplexity'))}") if quality.get("distinct_2") else None
    return {**win, "verdict": verdict, "model_label": evals[0].get("model_stage") or "policy",
            "baseline_label": evals[0].get("baseline_stage") or "baseline", "flagged": bool(guard.get("tripped")),
            "reasons": guard.get("reasons") or [], "action": guard.get("action"),
            "kept": _kept(context, evals[0].get("model_stage")), "quality": healthy}


def _kept(context: Any, policy: str | None) -> str | None:
    """The policy the runner kept when it rejected `policy` (None when it did not)."""
    from alignlab.pipeline.runner import Guards, guard_event

    guards = Guards()
    for record in context.finished:
        guards.observe(record, lambda _: None)
        if guard_event(record) and (record.get("outputs") or {}).get("model_stage") == policy:
            return guards.replaced.get(policy, None)
    return None


def _inputs(context: Any) -> tuple[list[Path], list[str]]:
    paths, labels = [], []
    for item in context.inputs.get("baseline_eval") or []:
        if item.get("suites"):
            paths.append(Path(item["suites"]))
            labels.append(f"{item['stage']} (baseline)")
    for folder, label in training_runs(context):  # every trained stage's curves, ensemble members included
        paths.append(folder)
        labels.append(label)
    for role in ("evals", "annotations"):
        for item in context.inputs.get(role) or []:
            folder = item.get("suites") if role == "evals" else str(Path(item["preferences"]).parent)
            if folder and Path(folder).is_dir():
                paths.append(Path(folder))
                labels.append(f"{item['stage']} r{item.get('round')}" if item.get("round") else item["stage"])
    return paths, labels


def _rule_of(evaluation: dict[str, Any]) -> dict[str, Any]:
    return (evaluation.get("metrics") or {}).get("rule") or {}


def render_page(context: Any, options: ReportOptions) -> str:
    from jinja2 import Environment

    from alignlab.report.collect import collect
    from alignlab.report.compare import compare
    from alignlab.report.plots import curves_plot, headline_plot
    from alignlab.report.render import context as report_context
    from alignlab.report.render import number, render_html

    paths, labels = _inputs(context)
    sources = collect(paths, labels) if paths else []
    evals = [s for s in sources if s.is_eval]
    tables = compare(evals, seed=context.pipeline.run.seed)
    plots = {"headline": headline_plot([s.label for s in evals], tables) if evals else None,
             "curves": curves_plot(sources) if sources else None}
    page = render_html(report_context(sources, tables, plots, title=options.title,
                                      per_suite=options.examples_per_suite))
    rows = round_rows(context)
    evals = context.inputs.get("evals") or []
    env = Environment(autoescape=True)
    env.filters.update(num=number, pct=lambda v: "–" if v is None else f"{100 * v:.1f}%", interval=interval)
    timings = [t for t in context.finished if t.get("seconds") is not None]
    section = env.from_string(SECTION).render(
        name=context.pipeline.run.name, rounds=rows, headline=_headline(rows, context), rule=context.pipeline.rule,
        timings=timings, total_s=sum(t["seconds"] for t in timings), quality_rows=quality_rows(evals),
        quality_metrics=QUALITY_METRICS, samples=samples_table(evals), guard_note=guard_note(evals),
        reference_label=next((_rule_of(e).get("reference") for e in evals if _rule_of(e).get("reference")),
                             "the reference model"),
        delta_note="bias: log-likelihood suites such as bbq, crows_pairs, stereoset; safety: refusal, toxicity "
                   "and multilingual suites" if any(r["bias"] or r["safety"] for r in rows) else "no suites run")
    return page.replace("</h1>\n", "</h1>\n" + section, 1)


def run_report(context: Any) -> dict[str, Any]:
    from alignlab.utils.io import atomic_write_text

    options = ReportOptions.model_validate(context.spec.config)
    path = Path(context.dir) / "report.html"
    atomic_write_text(path, render_page(context, options))
    rows = round_rows(context)
    context.echo(f"report: {path}")
    return {"report": str(path), "metrics": {"rounds": [{**{k: v for k, v in r.items() if k in (
        "round", "win", "reward", "baseline_reward", "rm_accuracy", "ceiling", "agreement", "new_pairs",
        "total_pairs")}, **{k: (r.get("eval_metrics") or {}).get(k) for k in ("quality", "baseline_quality", "guard")}}
        for r in rows]}}
