"""OCR for scanned government documents, measured before it is built (the OCR issue): the
two offline engines whose Chinese models come from a package registry, on the same pages.

    python bench/ocr.py [--pages 20] [--threads 2] [--keep DIR]

Generates 20 A4 pages at 200 dpi with known text (government-notice paragraphs written
here, rendered with Pillow in WenQuanYi Zen Hei from Debian `fonts-wqy-zenhei`): clean
single-column pages, two-column pages, and scan-like pages (rotated 1–2°, noise, JPEG
quality 60), some with a red header line and a red stamp over the signature. Then runs, each
in a child process of its own so the peak RSS is that engine's:

- RapidOCR (`rapidocr-onnxruntime`, PP-OCRv4 det + rec bundled in the wheel), onnxruntime
  with `--threads` intra-op threads;
- tesseract 5 (Debian `tesseract-ocr` + `tesseract-ocr-chi-sim`), `-l chi_sim --psm 3`,
  one CLI call per page with OMP_THREAD_LIMIT=`--threads`.

Each engine's boxes are put in reading order by `ingest.ocr_layout.reading_order` (columns
found from the boxes' x positions, left column first). Prints, per engine and kind of page,
the character accuracy 1 − Levenshtein / reference length over the text with whitespace
removed (and the same after NFKC, which forgives full-width vs half-width punctuation and
digits), pages per second, model load time and peak RSS.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.ocr_layout import Box, reading_order, split_at_gaps  # noqa: E402

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
DPI = 200
A4 = (round(8.27 * DPI), round(11.69 * DPI))  # 1654 × 2338

TITLES = [
    "江岸区关于进一步优化企业开办服务的通知",
    "江岸区高层次人才安居补贴实施细则",
    "关于开展2026年度中小企业创新券申报工作的通知",
    "江岸区促进数字经济高质量发展若干措施",
    "关于做好2026年高校毕业生就业创业工作的通知",
    "江岸区稳岗留工补贴申领指南",
]

PARAGRAPHS = [
    "为深入贯彻落实优化营商环境条例，进一步压缩企业开办时间，经区政府研究同意，"
    "现就有关事项通知如下。企业开办全流程办理时间压缩至1个工作日以内，"
    "营业执照、公章刻制、发票申领和社保登记实行一网通办。",
    "申请人可通过江岸区政务服务网（www.jiangan.gov.cn）或“江岸企服”小程序提交材料，"
    "系统自动核验身份信息，材料齐全的当场办结，免费刻制首套印章4枚。",
    "对新引进的全职博士研究生，给予一次性安家补贴6万元；硕士研究生3万元，"
    "本科毕业生1.5万元，补贴分三年按40%、30%、30%的比例发放。",
    "申请人才补贴须同时满足以下条件：2026年1月1日以后与区内企业签订3年以上劳动合同，"
    "在本区连续缴纳社会保险满6个月，且本人及配偶在本区无自有住房。",
    "本通知自2026年3月1日起施行，有效期3年。此前发布的岸政发〔2023〕12号文件同时废止，"
    "与本通知不一致的，以本通知为准。",
    "各街道、各部门要高度重视，明确专人负责，于2026年4月15日前将工作方案报区发展改革局，"
    "联系人：王明，联系电话：027-8277 5031。",
    "创新券单张面额分为5000元、1万元、2万元三档，每家企业年度累计申领额度不超过10万元，"
    "可用于购买检验检测、研发设计、知识产权等科技服务。",
    "对首次认定为国家高新技术企业的，给予一次性奖励20万元；重新认定的，奖励10万元。"
    "同一企业同一年度按就高原则享受，不重复支持。",
    "对年度数字经济核心产业营业收入首次突破1亿元、5亿元、10亿元的企业，"
    "分别给予50万元、100万元、200万元的阶梯奖励。",
    "企业申报时需提供以下材料：统一社会信用代码证明、上年度财务审计报告、"
    "研发费用专项审计报告及近3个月纳税证明（PDF格式，单个文件不超过20MB）。",
    "对吸纳登记失业人员和毕业年度高校毕业生就业的小微企业，按每人1000元标准给予一次性"
    "吸纳就业补贴，所需资金从就业补助资金中列支。",
    "参加失业保险满12个月且上年度未裁员或裁员率低于5.5%的企业，"
    "可按上年度实际缴纳失业保险费的60%申请稳岗返还，中小微企业提高至90%。",
    "申报截止时间为2026年5月31日17:00，逾期不予受理。咨询地址：江岸区沿江大道188号"
    "区政务服务中心B区12号窗口，工作时间：周一至周五9:00-12:00、13:30-17:30。",
    "区财政局负责资金保障和绩效评价，区审计局对资金使用情况进行监督检查。"
    "对弄虚作假骗取补贴的，追回已拨付资金，并依法依规追究相关责任。",
    "支持企业开展智能化改造，对设备投资额在500万元以上的项目，按设备投资额的8%给予补助，"
    "单个项目最高不超过300万元。",
    "鼓励金融机构开发“人才贷”“科创贷”等产品，区级风险补偿资金池规模为2亿元，"
    "对合作银行发放的贷款损失给予最高50%的补偿。",
    "外国人来华工作许可、居留许可实行“一窗受理、并联审批”，办理时限由20个工作日"
    "压缩至7个工作日，符合条件的可申请5年有效期的R字签证。",
    "网上申报流程：登录系统→选择“惠企政策”→填写申报表→上传附件→提交审核。"
    "审核结果将通过短信通知，请保持手机号码畅通。",
    "对在江岸区新设立的区域总部，经认定后给予最高1000万元的落户奖励，"
    "按30%、30%、40%的比例分三年兑现。",
    "本办法由江岸区人力资源和社会保障局负责解释。岸人社发〔2026〕7号、"
    "岸政办〔2026〕15号文件的配套细则另行制定。",
    "各类市场主体可通过12345政务服务便民热线或线上“接诉即办”平台反映问题，"
    "承办单位应在3个工作日内联系、15个工作日内办结并反馈。",
]

RED = (205, 20, 20)
BLACK = (20, 20, 20)


# --- page generation -------------------------------------------------------------------


def _wrap(draw, text: str, font, width: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if draw.textlength(line + ch, font=font) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


def make_page(n: int, kind: str, red: bool, rng: random.Random):
    """One page as (PIL image, reference text in reading order)."""
    from PIL import Image, ImageDraw, ImageFont

    W, H = A4
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    margin_x, y = 190, 200
    ref: list[str] = []
    if red:
        head_font = ImageFont.truetype(FONT, 92)
        head = "江岸区人民政府文件"
        tw = d.textlength(head, font=head_font)
        d.text(((W - tw) / 2, y), head, font=head_font, fill=RED)
        ref.append(head)
        y += 140
        number = f"岸政发〔2026〕{n + 3}号"
        nf = ImageFont.truetype(FONT, 34)
        nw = d.textlength(number, font=nf)
        d.text(((W - nw) / 2, y), number, font=nf, fill=BLACK)
        ref.append(number)
        y += 62
        d.line([(margin_x - 20, y), (W - margin_x + 20, y)], fill=RED, width=6)
        y += 50
    title_font = ImageFont.truetype(FONT, 50)
    title = TITLES[n % len(TITLES)]
    tw = d.textlength(title, font=title_font)
    d.text(((W - tw) / 2, y), title, font=title_font, fill=BLACK)
    ref.append(title)
    y += 110
    paras = rng.sample(PARAGRAPHS, 12 if kind == "two-column" else 5)
    size = 30 if kind == "two-column" else 34
    font = ImageFont.truetype(FONT, size)
    step = int(size * 1.65)
    bottom = H - 420
    if kind == "two-column":
        gap = 70
        col_w = (W - 2 * margin_x - gap) // 2
        columns = [margin_x, margin_x + col_w + gap]
        col, cy = 0, y
        for p in paras:
            for line in _wrap(d, "\u3000\u3000" + p, font, col_w):
                if cy > bottom:
                    if col == 1:
                        break
                    col, cy = 1, y
                d.text((columns[col], cy), line, font=font, fill=BLACK)
                ref.append(line)
                cy += step
            cy += step // 3
        y = bottom + step + 20
    else:
        for p in paras:
            for line in _wrap(d, "\u3000\u3000" + p, font, W - 2 * margin_x):
                if y > bottom:
                    break
                d.text((margin_x, y), line, font=font, fill=BLACK)
                ref.append(line)
                y += step
        y = max(y + 40, bottom - 60)
    sig_font = ImageFont.truetype(FONT, 34)
    sign_x = W - margin_x - 340
    for line in ("江岸区人民政府", f"2026年3月{n + 1}日"):
        d.text((sign_x, y), line, font=sig_font, fill=BLACK)
        ref.append(line)
        y += 60
    if red:
        # a round red stamp over the signature, drawn translucent like ink
        overlay = Image.new("RGBA", (W, H), (0, 0, 0, 0))
        od = ImageDraw.Draw(overlay)
        cx, cy2, r = sign_x + 150, y - 80, 150
        od.ellipse([cx - r, cy2 - r, cx + r, cy2 + r], outline=RED + (190,), width=9)
        star = [
            (
                cx + 55 * math.cos(math.pi / 2 + k * 4 * math.pi / 5),
                cy2 - 55 * math.sin(math.pi / 2 + k * 4 * math.pi / 5),
            )
            for k in range(5)
        ]
        od.polygon(star, fill=RED + (170,))
        img = Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")
    return img, "\n".join(ref)


def scan_like(img, rng: random.Random):
    """Rotate 1–2°, add grey noise and a faint background, round-trip through JPEG 60."""
    import numpy as np
    from PIL import Image

    angle = rng.choice([-1, 1]) * rng.uniform(1.0, 2.0)
    img = img.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor="white")
    a = np.asarray(img).astype(np.int16)
    nrng = np.random.default_rng(rng.randrange(1 << 30))
    a = a - 12 + nrng.normal(0, 14, a.shape[:2])[..., None].astype(np.int16)
    specks = nrng.random(a.shape[:2]) < 0.0015
    a[specks] = 60
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=60)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), angle


def generate(folder: Path, count: int) -> list[dict]:
    rng = random.Random(20260301)
    pages = []
    for n in range(count):
        # 7 clean single-column, 7 two-column, the rest scan-like (alternating layouts)
        if n < 7:
            kind, layout, red = "single", "single", n in (2, 5)
        elif n < 14:
            kind, layout, red = "two-column", "two-column", n in (9, 12)
        else:
            kind = "scan-like"
            layout = "two-column" if n % 2 else "single"
            red = n % 3 != 2
        img, ref = make_page(n, layout, red, rng)
        note = ""
        if kind == "scan-like":
            img, angle = scan_like(img, rng)
            note = f"rotated {angle:+.1f}°"
            path = folder / f"page{n:02d}.jpg"
            img.save(path, "JPEG", quality=90)
        else:
            path = folder / f"page{n:02d}.png"
            img.save(path)
        pages.append(
            {
                "path": str(path),
                "kind": kind,
                "layout": layout,
                "red": red,
                "ref": ref,
                "note": note,
            }
        )
    return pages


# --- engines (each in a child process) --------------------------------------------------


def run_rapidocr(paths: list[str], threads: int) -> dict:
    t = time.perf_counter()
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    load = time.perf_counter() - t
    texts, times = [], []
    for p in paths:
        t = time.perf_counter()
        result, _ = engine(p)
        boxes = []
        for quad, text, _score in result or []:
            xs = [pt[0] for pt in quad]
            ys = [pt[1] for pt in quad]
            boxes.append(Box(min(xs), min(ys), max(xs), max(ys), text))
        texts.append("\n".join(reading_order(boxes)))
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"load": load, "texts": texts, "times": times, "rss_kb": rss}


def tesseract_boxes(tsv: str) -> list[Box]:
    """tesseract's TSV words joined into its own lines (block, paragraph, line), each cut
    where it jumps a column gutter (tesseract's layout analysis sometimes runs a line across
    both columns)."""
    lines: dict[tuple[str, str, str], list[list]] = {}
    for row in tsv.splitlines()[1:]:
        f = row.split("\t")
        if len(f) < 12 or f[0] != "5" or not f[11].strip():
            continue
        x, y, w, h = map(int, f[6:10])
        lines.setdefault((f[2], f[3], f[4]), []).append([x, y, x + w, y + h, f[11]])
    out: list[Box] = []
    for words in lines.values():
        out.extend(split_at_gaps([Box(*w) for w in words]))
    return out


def run_tesseract(paths: list[str], threads: int) -> dict:
    env = dict(os.environ, OMP_THREAD_LIMIT=str(threads))
    t = time.perf_counter()
    # a blank page: what it costs to start the CLI and load chi_sim
    with tempfile.TemporaryDirectory() as tmp:
        from PIL import Image

        blank = Path(tmp) / "blank.png"
        Image.new("RGB", (200, 100), "white").save(blank)
        subprocess.run(
            ["tesseract", str(blank), "stdout", "-l", "chi_sim"],
            env=env,
            capture_output=True,
            check=True,
        )
    load = time.perf_counter() - t
    texts, times = [], []
    for p in paths:
        t = time.perf_counter()
        out = subprocess.run(
            ["tesseract", p, "stdout", "-l", "chi_sim", "--psm", "3", "tsv"],
            env=env,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        texts.append("\n".join(reading_order(tesseract_boxes(out))))
        times.append(time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"load": load, "texts": texts, "times": times, "rss_kb": rss}


# --- scoring -----------------------------------------------------------------------------


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def squash(text: str, nfkc: bool = False) -> str:
    if nfkc:
        text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not ch.isspace())


def accuracy(ref: str, hyp: str, nfkc: bool = False) -> tuple[int, int]:
    r, h = squash(ref, nfkc), squash(hyp, nfkc)
    return levenshtein(r, h), len(r)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep", help="write the pages and each engine's text here")
    ap.add_argument("--engine", help=argparse.SUPPRESS)  # child mode
    ap.add_argument("--paths", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.engine:
        paths = json.loads(Path(args.paths).read_text())
        run = run_rapidocr if args.engine == "rapidocr" else run_tesseract
        print(json.dumps(run(paths, args.threads), ensure_ascii=False))
        return

    tmp = tempfile.TemporaryDirectory()
    folder = Path(args.keep or tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    pages = generate(folder, args.pages)
    print(f"{len(pages)} pages generated in {time.perf_counter() - t:.1f} s into {folder}")
    list_file = folder / "paths.json"
    list_file.write_text(json.dumps([p["path"] for p in pages]))
    results = {}
    for engine in ("rapidocr", "tesseract"):
        proc = subprocess.run(
            [sys.executable, __file__, "--engine", engine, "--paths", str(list_file)]
            + ["--threads", str(args.threads)],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            print(f"{engine} failed:\n{proc.stderr[-2000:]}")
            continue
        results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
        if args.keep:
            for p, text in zip(pages, results[engine]["texts"], strict=True):
                Path(p["path"]).with_suffix(f".{engine}.txt").write_text(text)
            for p in pages:
                Path(p["path"]).with_suffix(".ref.txt").write_text(p["ref"])

    kinds = ["single", "two-column", "scan-like"]
    print(f"\nthreads: {args.threads}; {len(pages)} pages, A4 at {DPI} dpi ({A4[0]}×{A4[1]})")
    print(
        "\n| engine | clean single-column | two-column | scan-like | all | all (NFKC) "
        "| pages/s | s/page p50 | load s | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for engine, r in results.items():
        per_kind = {k: [0, 0] for k in kinds + ["all", "nfkc"]}
        for p, text in zip(pages, r["texts"], strict=True):
            e, n = accuracy(p["ref"], text)
            for k in (p["kind"], "all"):
                per_kind[k][0] += e
                per_kind[k][1] += n
            e, n = accuracy(p["ref"], text, nfkc=True)
            per_kind["nfkc"][0] += e
            per_kind["nfkc"][1] += n
        cells = [f"{100 * (1 - e / n):.1f} %" for e, n in per_kind.values()]
        times = sorted(r["times"])
        print(
            f"| {engine} | "
            + " | ".join(cells)
            + f" | {len(times) / sum(times):.2f} | {times[len(times) // 2]:.2f}"
            + f" | {r['load']:.2f} | {r['rss_kb'] / 1024:.0f} |"
        )
    print("\nper page (accuracy, whitespace removed):")
    for i, p in enumerate(pages):
        cells = []
        for engine, r in results.items():
            e, n = accuracy(p["ref"], r["texts"][i])
            cells.append(f"{engine} {100 * (1 - e / n):5.1f} % {r['times'][i]:5.2f} s")
        extra = ", red header + stamp" if p["red"] else ""
        print(
            f"  {Path(p['path']).name} {p['kind']:<10} {p['layout']:<10} "
            f"{len(squash(p['ref'])):4d} chars  " + "  ".join(cells) + f"  {p['note']}{extra}"
        )


if __name__ == "__main__":
    main()
