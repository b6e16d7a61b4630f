"""Sensitive-word checks per second: `SensitiveWords.check` on a generated 1,000-word list.

    python bench/safety.py [--words 1000] [--seconds 2] [--seed 7]

The list: the shipped defaults plus seeded random words (2–6 common Chinese characters,
a tenth ASCII words of 3–8 letters) up to `--words`. The texts: the real questions of
tests/questions/ (short, ~10–30 characters), the same joined to ~100 and ~500 characters
(a long question, an answer), and disguised hits (賭 ＊ 博 …) so the match path is timed
too. For each kind: checks per second on one thread (each text checked in turn for
`--seconds`), mean and p99 per check. Also the time to build the automaton for 1,000 and
10,000 words (the cost of a save or a reload).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.safety import SensitiveWords, default_words  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMMON = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"


def generated_list(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = list(default_words())
    seen = set(words)
    while len(words) < n:
        if rng.random() < 0.1:
            word = "".join(
                rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8))
            )
        else:
            word = "".join(rng.choice(COMMON) for _ in range(rng.randint(2, 6)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words[:n]


def questions() -> list[str]:
    out = []
    for path in sorted((ROOT / "tests" / "questions").glob("kb_*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            item = json.loads(line)
            out.extend([item["question"]] if "question" in item else item.get("turns", []))
    return [q for q in out if isinstance(q, str) and q]


def joined(texts: list[str], length: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(200):
        text = ""
        while len(text) < length:
            text += rng.choice(texts)
        out.append(text[:length])
    return out


def timed(words: SensitiveWords, texts: list[str], seconds: float) -> dict[str, float]:
    samples: list[float] = []
    hits = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for text in texts:
            t0 = time.perf_counter()
            hit = words.check(text)
            samples.append(time.perf_counter() - t0)
            hits += hit is not None
    total = sum(samples)
    return {
        "checks": len(samples),
        "per_s": len(samples) / total,
        "mean_us": 1e6 * total / len(samples),
        "p99_us": 1e6 * statistics.quantiles(samples, n=100)[98],
        "hit_share": hits / len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    for n in (args.words, 10_000):
        listed = generated_list(n, args.seed)
        t0 = time.perf_counter()
        SensitiveWords(listed)
        print(f"build: {n:>6} words in {1000 * (time.perf_counter() - t0):7.1f} ms")
    words = SensitiveWords(generated_list(args.words, args.seed))
    words.check("预热")  # OpenCC's converter is built on first use

    real = questions()
    disguised = [
        "请问哪里可以賭 ＊ 博？",
        "能帮我虚開·發票吗",
        "ｄｕｂｏ网站",
        "怎么洗\u200b钱最快",
        "我想找个地方赌😀博",
    ]
    kinds = {
        f"questions (real, mean {statistics.mean(map(len, real)):.0f} chars)": real,
        "~100 chars": joined(real, 100, rng),
        "~500 chars (an answer)": joined(real, 500, rng),
        "disguised hits": disguised,
    }
    print(f"\n{args.words} words; one thread; {args.seconds:.0f} s per kind")
    print(f"{'texts':<36}{'checks/s':>12}{'mean µs':>10}{'p99 µs':>10}{'hits':>8}")
    for name, texts in kinds.items():
        r = timed(words, texts, args.seconds)
        print(
            f"{name:<36}{r['per_s']:>12,.0f}{r['mean_us']:>10.1f}{r['p99_us']:>10.1f}"
            f"{r['hit_share']:>8.0%}"
        )


if __name__ == "__main__":
    main()
