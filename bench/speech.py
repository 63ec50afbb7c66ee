"""Spoken answers: transcription speed and accuracy, coverage drift spoken vs typed, filler recall, latency.

    .venv/bin/python bench/speech.py [--readme bench/README.md] [--quick] [--answers N] [--speech-dev DIR]

Two kinds of audio, neither copied into the repo:

* speech-dev (../shared/datasets/speech-dev, or --speech-dev / PRACTICE_SPEECH_DEV_DIR, or
  $PRACTICE_DATASETS_DIR/speech-dev): 22 real recordings with exact transcripts (LibriSpeech, LibriVox,
  JFK, and short mfa_* clips of a person saying um/uh verbatim). WER on real voices and filler recall
  come from here, because espeak-ng cannot say "um" the way a person does.
* eval answers read by espeak-ng at the app's rate: a seeded sample stratified by style of the typed,
  hand-labelled answers in eval/answers/. Their WER is against the typed text, and their coverage drift
  is the coverage of the transcript minus the coverage of the typed answer, both from the default scorer.
  Joined together and cut at a pause they also make the 15, 60 and 120 s answers timed for real-time
  factor (transcription seconds per second of audio, models warm, median of runs) and the 60 s answer
  timed from the end of the recording to the full report (`assess_audio`: decode, transcribe, score,
  delivery).

Timings depend on machine load, so the load average is printed beside them. With --readme, the table
replaces the block between the bench:speech markers in that file.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import sys
import time
import wave
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.evalset import LabelledAnswer, load_eval_set  # noqa: E402
from bench.readme import replace_block, verdict  # noqa: E402
from practice import speech_in  # noqa: E402
from practice.assess import assess_audio, domain_terms  # noqa: E402
from practice.bank import Question, load_bank  # noqa: E402
from practice.offline import keep_hub_offline  # noqa: E402
from practice.scoring import default_scorer  # noqa: E402
from practice.scoring.delivery import measure_delivery  # noqa: E402
from practice.scoring.text import HESITATIONS  # noqa: E402
from practice.speech_in import (  # noqa: E402
    SAMPLE_RATE,
    NoSpeechError,
    Transcriber,
    decode,
    default_transcriber,
)
from practice.speech_out import DEFAULT_RATE, synthesize  # noqa: E402
from practice.transcript import Transcript, Word  # noqa: E402

SPEECH_DEV_ENV_VAR = "PRACTICE_SPEECH_DEV_DIR"
DATASETS_ENV_VAR = "PRACTICE_DATASETS_DIR"
DEFAULT_SPEECH_DEV = ROOT.parent / "shared" / "datasets" / "speech-dev"
MODELS = ("tiny.en", "base")
LENGTHS = (15.0, 60.0, 120.0)
# The prompt shipped before this bench; kept to show why it was replaced (it drops stretches of speech).
OLD_PROMPT = "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. Uh, so, you know."
LATENCY_TARGET = 5.0
DRIFT_TARGET = 8.0


@dataclass(frozen=True)
class Config:
    model: str
    prompt: str = "prompt"  # "prompt" (FILLER_PROMPT as shipped), "old prompt" (OLD_PROMPT) or "no prompt"
    beam: int = 5

    @property
    def label(self) -> str:
        return f"{self.model}, {self.prompt}, beam {self.beam}"


_LOADED: dict[Config, Transcriber] = {}


def transcriber(cfg: Config) -> Transcriber:
    """One loaded model per configuration; loading takes under a second, so no sharing tricks."""
    if cfg not in _LOADED:
        _LOADED[cfg] = Transcriber(cfg.model, filler_prompt=cfg.prompt != "no prompt", beam_size=cfg.beam)
    return _LOADED[cfg]


def transcribe(cfg: Config, samples: np.ndarray) -> tuple[Transcript | None, float]:
    """Transcript (None when the model heard nothing) and seconds taken."""
    model = transcriber(cfg)
    shipped = speech_in.FILLER_PROMPT
    speech_in.FILLER_PROMPT = OLD_PROMPT if cfg.prompt == "old prompt" else shipped
    start = time.perf_counter()
    try:
        out: Transcript | None = model.transcribe(samples)
    except NoSpeechError:
        out = None
    finally:
        speech_in.FILLER_PROMPT = shipped
    return out, time.perf_counter() - start


# --------------------------------------------------------------------------------------------- metrics


def normalise(text: str) -> list[str]:
    """Words compared for WER: case, punctuation and hyphens ignored, apostrophes inside words kept."""
    text = text.lower().replace("-", " ").replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return [w.strip("'") for w in text.split() if w.strip("'")]


def edits(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Word-level Levenshtein distance: substitutions + deletions + insertions."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def wer(pairs: Sequence[tuple[str, str]]) -> float:
    """Corpus WER in percent: all edits over all reference words, so long clips weigh more."""
    total = sum(len(normalise(r)) for r, _ in pairs)
    return 100.0 * sum(edits(normalise(r), normalise(h)) for r, h in pairs) / max(1, total)


def hesitations(words: Sequence[Word]) -> int:
    """Hesitation fillers the app's delivery report would count in these words.

    Only hesitation sounds (the scorer's HESITATIONS; delivery names each by its base form, "ummm" as "um"):
    soft fillers ("you know") depend on context and are left out so recall measures the recogniser, not the
    filler rules."""
    return sum(f.text in HESITATIONS for f in measure_delivery(words, 0.0).fillers)


def text_hesitations(text: str) -> int:
    """Same count for a reference text, given evenly spaced times."""
    return hesitations([Word(w, 0.4 * i, 0.4 * i + 0.3) for i, w in enumerate(text.split())])


@dataclass
class FillerTally:
    said: int = 0  # hesitations in the references
    found: int = 0  # of those, matched by count per clip
    extra: int = 0  # hesitations in the transcripts beyond the references' count

    def add(self, ref: str, hyp: Transcript | None) -> None:
        n_ref = text_hesitations(ref)
        n_hyp = hesitations(hyp.words) if hyp else 0
        self.said += n_ref
        self.found += min(n_ref, n_hyp)
        self.extra += max(0, n_hyp - n_ref)

    @property
    def recall(self) -> float:
        return 100.0 * self.found / max(1, self.said)


def pct(x: float) -> str:
    return f"{x:.1f}%"


def load_avg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


# ----------------------------------------------------------------------------------------------- audio


def speech_dev_dir(flag: Path | None) -> Path:
    if flag:
        return flag
    if os.environ.get(SPEECH_DEV_ENV_VAR):
        return Path(os.environ[SPEECH_DEV_ENV_VAR])
    if os.environ.get(DATASETS_ENV_VAR):
        return Path(os.environ[DATASETS_ENV_VAR]) / "speech-dev"
    return DEFAULT_SPEECH_DEV


@dataclass(frozen=True, eq=False)
class Clip:
    name: str
    samples: np.ndarray
    reference: str

    @property
    def seconds(self) -> float:
        return self.samples.size / SAMPLE_RATE


def load_speech_dev(folder: Path) -> list[Clip]:
    manifest = folder / "manifest.tsv"
    if not manifest.is_file():
        sys.exit(f"{manifest}: not found; point --speech-dev or ${SPEECH_DEV_ENV_VAR} at speech-dev")
    lines = manifest.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    clips = []
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t"), strict=True))
        clips.append(Clip(row["file"], decode(folder / row["file"]), row["transcript"]))
    return clips


def to_wav(samples: np.ndarray) -> bytes:
    """16-bit PCM WAV, the way a browser recording reaches the app after upload."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def spoken(text: str) -> np.ndarray:
    return decode(synthesize(text, rate=DEFAULT_RATE))


@dataclass(frozen=True, eq=False)
class LongAnswer:
    """An answer of about `seconds` read by espeak-ng, with the text it reads (so its WER is known)."""

    question: Question
    text: str
    samples: np.ndarray

    @property
    def seconds(self) -> float:
        return self.samples.size / SAMPLE_RATE


def long_answers(answers: list[LabelledAnswer], lengths: Sequence[float]) -> list[LongAnswer]:
    """One question's eval answers read one after another, cut after the word that reaches each length."""
    by_question: dict[str, list[LabelledAnswer]] = defaultdict(list)
    for a in answers:
        by_question[a.question.id].append(a)
    group = max(by_question.values(), key=lambda g: sum(len(a.answer.split()) for a in g))
    words = " ".join(a.answer for a in group).split()
    rate = len(words) / (spoken(" ".join(words)).size / SAMPLE_RATE)  # espeak's words per second
    out = []
    for seconds in lengths:
        n = round(seconds * rate)
        for _ in range(3):  # espeak's pace varies with the words; two corrections land within a second
            samples = spoken(" ".join(words[:n]))
            n = round(n * seconds / (samples.size / SAMPLE_RATE))
        out.append(LongAnswer(group[0].question, " ".join(words[:n]), spoken(" ".join(words[:n]))))
    return out


def stratified(answers: list[LabelledAnswer], n: int, seed: int) -> list[LabelledAnswer]:
    """n answers, each style in proportion to the eval set (largest remainder), drawn with a fixed seed."""
    rng = random.Random(seed)
    by_style: dict[str, list[LabelledAnswer]] = defaultdict(list)
    for a in answers:
        by_style[a.style].append(a)
    n = min(n, len(answers))
    exact = {s: n * len(g) / len(answers) for s, g in by_style.items()}
    take = {s: int(x) for s, x in exact.items()}
    for s in sorted(exact, key=lambda s: take[s] - exact[s])[: n - sum(take.values())]:
        take[s] += 1
    return [a for s in sorted(by_style) for a in rng.sample(by_style[s], take[s])]


def with_fillers(text: str, rng: random.Random, every: int = 9, limit: int = 45) -> str:
    """The first `limit` words with "um," / "uh," inserted about every `every` words (the synthetic row)."""
    words = text.split()[:limit]
    out: list[str] = []
    for i, w in enumerate(words):
        if i and i % every == 0:
            out.append(rng.choice(("um,", "uh,")))
        out.append(w)
    return " ".join(out)


# ---------------------------------------------------------------------------------------------- benches


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_speech_dev(clips: list[Clip], configs: list[Config]) -> tuple[list[str], list[str]]:
    """WER on real voices and filler recall on the clips where a person says um/uh."""
    plain = {c.name for c in clips if not text_hesitations(c.reference)}
    n_fillers = sum(text_hesitations(c.reference) for c in clips)
    rows, notes = [], []
    for cfg in configs:
        transcribe(cfg, clips[0].samples)  # warm
        pairs, tally, seconds = [], FillerTally(), 0.0
        for clip in clips:
            hyp, took = transcribe(cfg, clip.samples)
            seconds += took
            pairs.append((clip.reference, hyp.text if hyp else ""))
            tally.add(clip.reference, hyp)
            if hyp is None or wer([(clip.reference, hyp.text)]) > 40:
                notes.append(f"{cfg.label}: {clip.name}: {hyp.text if hyp else '(no speech)'!r}")
        rows.append(
            f"| {cfg.label} | {pct(wer(pairs))} | "
            f"{pct(wer([p for p, c in zip(pairs, clips, strict=True) if c.name in plain]))} | "
            f"{pct(tally.recall)} ({tally.found}/{tally.said}) | {tally.extra} | "
            f"{seconds / sum(c.seconds for c in clips):.3f} |"
        )
    head = [
        f"Real voices, speech-dev: {len(clips)} clips, {sum(c.seconds for c in clips):.0f} s; "
        f"{len(clips) - len(plain)} of them (mfa_*) hold {n_fillers} spoken um/uh/hm.",
        "",
        "| model, filler prompt, beam | WER, all clips | WER, clips without fillers | filler recall "
        "(um/uh/hm) | extra fillers | RTF (short clips) |",
        "|---|---|---|---|---|---|",
    ]
    return head + rows, notes


@dataclass
class SpokenResult:
    cfg: Config
    n: int
    wer: float
    drift: list[float]  # spoken minus typed coverage, points
    by_style: dict[str, list[float]]


def bench_eval_answers(
    sample: list[LabelledAnswer], audio: list[np.ndarray], typed: list[float], cfg: Config
) -> tuple[SpokenResult, list[str], list[str]]:
    """WER and coverage drift of one configuration, and its transcripts (to reuse on a sub-sample)."""
    scorer = default_scorer()
    pairs, drift, by_style, notes, texts = [], [], defaultdict(list), [], []
    for a, samples, cov in zip(sample, audio, typed, strict=True):
        hyp, _ = transcribe(cfg, samples)
        text = hyp.text if hyp else ""
        texts.append(text)
        pairs.append((a.answer, text))
        d = (scorer.score(a.question, text).coverage if text else 0.0) - cov
        drift.append(d)
        by_style[a.style].append(d)
        if abs(d) >= 25:
            notes.append(f"{cfg.label}: {a.id}: typed {cov:.0f} -> spoken {cov + d:.0f}: {text!r}")
    return SpokenResult(cfg, len(sample), wer(pairs), drift, by_style), notes, texts


def spoken_row(r: SpokenResult) -> str:
    return (
        f"| {r.cfg.label} | {r.n} | {pct(r.wer)} | {statistics.mean(abs(d) for d in r.drift):.1f} | "
        f"{statistics.mean(r.drift):+.1f} | {max(abs(d) for d in r.drift):.0f} |"
    )


def bench_synthetic_fillers(sample: list[LabelledAnswer], configs: list[Config], n: int) -> list[str]:
    """espeak reading answers with "um"/"uh" written in: a weak stand-in for real hesitations."""
    rng = random.Random(7)
    texts = [with_fillers(a.answer, rng) for a in sample[:n]]
    audio = [spoken(t) for t in texts]
    rows = []
    for cfg in configs:
        tally = FillerTally()
        for text, samples in zip(texts, audio, strict=True):
            tally.add(text, transcribe(cfg, samples)[0])
        rows.append(
            f'| espeak-ng, "um"/"uh" written in ({n} answers) | {cfg.label} | {pct(tally.recall)} '
            f"({tally.found}/{tally.said}) | {tally.extra} |"
        )
    return rows


def bench_rtf(
    longs: list[LongAnswer], configs: list[tuple[Config, bool]], runs: int
) -> tuple[list[str], list[str]]:
    """Per configuration and length: real-time factor (median of runs) and WER of the last run."""
    rows, notes = [], []
    for cfg, all_lengths in configs:
        transcribe(cfg, longs[0].samples)  # warm
        cells = []
        for long in longs:
            if not all_lengths and not 50 <= long.seconds <= 90:
                cells.append("")
                continue
            hyps: list[Transcript | None] = []

            def once(long: LongAnswer = long, cfg: Config = cfg, hyps: list = hyps) -> None:
                hyps.append(transcribe(cfg, long.samples)[0])

            t = median_seconds(once, runs)
            text = hyps[-1].text if hyps[-1] else ""
            if wer([(long.text, text)]) > 30:
                notes.append(f"{cfg.label}: {long.seconds:.0f} s answer: {text!r}")
            cells.append(f"{t / long.seconds:.3f} ({t:.1f} s, WER {pct(wer([(long.text, text)]))})")
        rows.append(f"| {cfg.label} | " + " | ".join(cells) + " |")
    return rows, notes


def bench_latency(long: LongAnswer, runs: int) -> tuple[float, float]:
    """Median seconds from a finished recording (WAV bytes) to the full report with the app's defaults,
    and the part of that spent on scoring and delivery."""
    wav = to_wav(long.samples)
    report = assess_audio(long.question, wav)  # loads and warms the default transcriber and scorer
    total = median_seconds(lambda: assess_audio(long.question, wav), runs)
    transcript, terms = report.transcript, domain_terms(long.question)
    assert transcript is not None
    rest = median_seconds(
        lambda: (
            default_scorer().score(long.question, transcript.text),
            measure_delivery(transcript.words, transcript.duration, terms),
        ),
        runs,
    )
    return total, rest


# ------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readme", type=Path, help="rewrite the bench:speech block of this file")
    parser.add_argument("--speech-dev", type=Path, help=f"speech-dev folder (default ${SPEECH_DEV_ENV_VAR})")
    parser.add_argument("--answers", type=int, help="eval answers to speak (default 40, --quick 12)")
    parser.add_argument("--runs", type=int, help="timed runs per measurement, median kept (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the stratified sample")
    parser.add_argument("--quick", action="store_true", help="fewer answers, configurations and runs")
    args = parser.parse_args()
    keep_hub_offline()
    n_answers = args.answers or (12 if args.quick else 40)
    runs = args.runs or (2 if args.quick else 3)
    started, load_before = time.perf_counter(), load_avg()
    app = default_transcriber()
    default = Config(app.name, "prompt" if app.filler_prompt else "no prompt", app.beam_size)
    other_beam = replace(default, beam=1 if default.beam != 1 else 5)
    prompts = ("prompt", "old prompt", "no prompt")

    clips = load_speech_dev(speech_dev_dir(args.speech_dev))
    answers = load_eval_set(load_bank())
    sample = stratified(answers, n_answers, args.seed)
    sub = stratified(sample, n_answers // 2, args.seed)
    print(f"Synthesizing {len(sample)} eval answers and the long answers with espeak-ng ...", file=sys.stderr)
    audio = [spoken(a.answer) for a in sample]
    longs = long_answers(answers, LENGTHS)
    typed = [default_scorer().score(a.question, a.answer).coverage for a in sample]

    dev_configs = [Config("tiny.en", p) for p in prompts] + [replace(Config("tiny.en"), beam=1)]
    dev_configs += [Config("base", p) for p in ("prompt", "no prompt")]
    compare = [replace(default, prompt=p) for p in prompts if p != default.prompt] + [other_beam]
    compare += [Config(m, default.prompt, default.beam) for m in MODELS if m != default.model]
    filler_configs = [replace(default, prompt=p) for p in prompts]
    rtf_configs = [(Config(m, default.prompt, default.beam), True) for m in MODELS] + [(other_beam, False)]
    if args.quick:
        dev_configs = [c for c in dev_configs if c.beam == 5 and c.prompt != "old prompt"]
        compare = compare[:1]
        filler_configs = [c for c in filler_configs if c.prompt != "old prompt"]

    timings: list[str] = []

    def step(name: str) -> None:
        timings.append(f"{name} at {time.perf_counter() - started:.0f} s")
        print(name, "...", file=sys.stderr)

    step("speech-dev")
    dev_lines, notes = bench_speech_dev(clips, dev_configs)
    step("synthetic fillers")
    synth_rows = bench_synthetic_fillers(sample, filler_configs, n=min(len(sample), 12))
    step("spoken eval answers")
    main_result, more, texts = bench_eval_answers(sample, audio, typed, default)
    notes += more
    picked = [sample.index(a) for a in sub]
    sub_rows = [
        spoken_row(
            SpokenResult(
                default,
                len(sub),
                wer([(sample[i].answer, texts[i]) for i in picked]),
                [main_result.drift[i] for i in picked],
                {},
            )
        )
    ]
    for cfg in compare:
        result, more, _ = bench_eval_answers(sub, [audio[i] for i in picked], [typed[i] for i in picked], cfg)
        notes += more
        sub_rows.append(spoken_row(result))
    step("timing")
    load_timing = load_avg()
    rtf_rows, more = bench_rtf(longs, rtf_configs, runs)
    notes += more
    sixty = min(longs, key=lambda long: abs(long.seconds - 60))
    latency, rest_s = bench_latency(sixty, runs)
    load_after = load_avg()
    step("done")

    mean_abs = statistics.mean(abs(d) for d in main_result.drift)
    mean_signed = statistics.mean(main_result.drift)
    lines = [
        f"One run of `bench/speech.py{' --quick' if args.quick else ''}` on this {os.cpu_count()}-core "
        f"machine, {time.perf_counter() - started:.0f} s; load average (1, 5, 15 min) {load_before} at "
        f"the start, {load_timing} when timing began, {load_after} at the end (a load above the core count "
        "means other jobs shared the CPU and times are upper bounds). Filler prompt as shipped: "
        f'"{speech_in.FILLER_PROMPT}"; old prompt: "{OLD_PROMPT}".',
        "",
        f"**Targets** (app defaults: {default.label}): full report for a {sixty.seconds:.0f} s answer in "
        f"{latency:.2f} s (target <= {LATENCY_TARGET:g} s: {verdict(latency <= LATENCY_TARGET)})"
        f"; mean absolute coverage drift {mean_abs:.1f} points (target <= {DRIFT_TARGET:g}: "
        f"{verdict(mean_abs <= DRIFT_TARGET)}).",
        "",
        f"Time from the end of a {sixty.seconds:.0f} s answer to the full report (`assess_audio` on WAV "
        f"bytes: decode, transcribe, score, delivery; models warm, median of {runs}): {latency:.2f} s, "
        f"of which scoring + delivery {rest_s:.2f} s.",
        "",
        f"Real-time factor (transcription time / audio length, warm, median of {runs}; espeak-ng reading "
        f"eval answers; load average {load_timing} -> {load_after}), with the WER of that transcript:",
        "",
        "| model, filler prompt, beam | "
        + " | ".join(f"{long.seconds:.0f} s ({len(long.text.split())} words)" for long in longs)
        + " |",
        "|---|" + "---|" * len(longs),
        *rtf_rows,
        "",
        *dev_lines,
        "",
        "Filler recall counts, per clip, the hesitations found up to the number said; extra fillers are "
        "hesitations written beyond that number (mostly mfa_uhuh, where Whisper writes more uh's than the "
        "reference). Secondary, synthetic (espeak-ng does not say um like a person):",
        "",
        "| audio | model, filler prompt, beam | filler recall | extra fillers |",
        "|---|---|---|---|",
        *synth_rows,
        "",
        f"Spoken eval answers: typed eval answers (stratified by style, seed {args.seed}) read by espeak-ng "
        f"at {DEFAULT_RATE} wpm; WER against the typed text; coverage drift = coverage of the transcript "
        "minus coverage of the typed answer (default scorer, points out of 100). Alternatives run on a "
        "stratified half of the sample, next to the app defaults on the same half.",
        "",
        "| model, filler prompt, beam | answers | WER | mean abs drift | mean signed drift | max abs drift |",
        "|---|---|---|---|---|---|",
        spoken_row(main_result),
        *sub_rows,
        "",
        f"Drift by style ({default.label}, {main_result.n} answers): "
        + ", ".join(
            f"{s} {statistics.mean(main_result.by_style[s]):+.1f} (n={len(main_result.by_style[s])})"
            for s in sorted(main_result.by_style)
        )
        + f". Mean signed drift {mean_signed:+.1f}.",
    ]
    table = "\n".join(lines)
    print(table)
    for note in notes:
        print("note:", note, file=sys.stderr)
    print("steps:", "; ".join(timings), file=sys.stderr)
    if args.readme:
        replace_block(args.readme, "speech", table)


if __name__ == "__main__":
    main()
