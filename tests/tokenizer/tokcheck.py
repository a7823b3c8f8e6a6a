"""Shared pieces of the tokenizer tests: the varied corpus, the escaping that
tests/tokenizer/tokdrv.c reads and writes, and running the driver."""
import random
import subprocess


def escape(b):
    """bytes → one line in tokdrv's escaped form."""
    out = []
    for c in b:
        if c == 0x5C:
            out.append(b"\\\\")
        elif c == 0x0A:
            out.append(b"\\n")
        elif c == 0x09:
            out.append(b"\\t")
        elif c == 0x0D:
            out.append(b"\\r")
        elif c < 0x20 or c == 0x7F:
            out.append(b"\\x%02x" % c)
        else:
            out.append(bytes([c]))
    return b"".join(out)


def unescape(line):
    out, i = bytearray(), 0
    while i < len(line):
        c = line[i]
        if c == 0x5C and i + 1 < len(line):
            d = line[i + 1]
            if d == ord("n"): out.append(10); i += 2
            elif d == ord("t"): out.append(9); i += 2
            elif d == ord("r"): out.append(13); i += 2
            elif d == ord("x"): out.append(int(line[i + 2:i + 4], 16)); i += 4
            else: out.append(d); i += 2
        else:
            out.append(c); i += 1
    return bytes(out)


def run_driver(drv, mode, tok, lines, *flags):
    """Feed escaped lines to tokdrv; returns (status, list of output lines as bytes)."""
    p = subprocess.run([drv, mode, tok, *flags], input=b"".join(l + b"\n" for l in lines),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.split(b"\n")[:-1], p.stderr


RADIOLOGY = [
    "FINDINGS: There is a 2.3 x 1.8 cm spiculated mass in the right upper lobe (series 3, image 42).",
    "No pleural effusion or pneumothorax. Heart size is within normal limits.",
    "IMPRESSION:\n1. Findings suspicious for primary lung malignancy; recommend PET-CT.\n2. Mild degenerative changes of the thoracic spine.",
    "Comparison: CT chest 2023-04-17. Technique: axial images at 1.25 mm, IV contrast (Omnipaque 350, 80 mL).",
    "Left ventricular ejection fraction ~55%; T2-weighted FLAIR hyperintensities, periventricular.",
    "Impression:   stable   9-mm nodule  (Lung-RADS 2);\tfollow-up in 12 months.",
]
SCRIPTS = [
    "Le médecin a noté une légère opacité à la base gauche; pas d'épanchement. Ça va, naïve façade.",
    "Größe: 4,5 cm – Befund unverändert. Überweisung an die Kardiologie. Ærø, Øresund, ß ẞ.",
    "Η ακτινογραφία θώρακος δεν δείχνει οξεία παθολογία. Ωμέγα, ψυχή.",
    "Рентгенография органов грудной клетки: без очаговых изменений. Съешь ещё этих мягких булок.",
    "胸部CT显示右肺上叶有一个结节，建议随访。日本語のテキスト、ひらがなとカタカナ。한국어 문장입니다.",
    "الأشعة السينية للصدر طبيعية. لا يوجد انصباب جنبي.",
    "छाती का एक्स-रे सामान्य है। कोई फुफ्फुस बहाव नहीं।",
    "עברית: צילום חזה תקין. ไทย: ภาพเอกซเรย์ปกติ. ქართული. Հայերեն.",
]
NUMBERS = [
    "0 1 2 3 4 5 6 7 8 9 10 11 100 1000 12345 1234567890 3.14159 -0.5 +7 1e-6 2^31",
    "12,345.67 mm; 1/2; 3:45 pm; 2024-01-31T12:00:00Z; v1.2.3; #42; 50% ; 0x1F; ¼ ½ ¾; ²³",
    "١٢٣٤٥ ०१२३४ 一二三 Ⅻ ⑦",
]
WHITESPACE = [
    "", " ", "  ", "    leading spaces", "trailing spaces    ", "a  b   c    d     e",
    "\t", "\t\ttabs\tand\t\tmore\t", "\n", "\n\n\n", "line one\nline two\r\nline three\n\n",
    "  \t \n \t\n   mixed   \n\n\t  ", " " * 40 + "x" + "\t" * 33 + "y" + "\n" * 35,
    "\u00a0non-breaking\u2009thin\u3000ideographic\u200bzero-width",
]
EMOJI = [
    "Emoji: 😀 🩻 🫁 🧠 ❤️ ✅ 👍🏽 🇩🇪🇯🇵",
    "ZWJ: 👩‍⚕️ 👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏿‍🔬 👁️‍🗨️",
]
RARE = [
    "Private use \ue000\uf8ff and \U000f0000 and \U0010fffd; control \x01\x02\x1b\x7f.",
    "Rare CJK ext B: \U00020000\U0002a6d6 \U00030000; Linear B: \U00010000; cuneiform \U00012000",
    "Combining: e\u0301 a\u0308 n\u0303 \u0915\u094d\u0937; variation \u2764\ufe0e; replacement \ufffd",
    "Math: ∀x∈ℝ: ∑ᵢ xᵢ² ≥ 0 → ∫₀^∞ e^{-x} dx = 1; ⟨ψ|φ⟩",
]


def pieces(specials):
    return RADIOLOGY + SCRIPTS + NUMBERS + WHITESPACE + EMOJI + RARE + specials


def random_lines(specials, n, seed, maxlen=60):
    """Random mixtures of corpus fragments, characters and whitespace."""
    rng = random.Random(seed)
    frag = pieces(specials)
    chars = "".join(frag) + "  \t\n"
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 6)):
            r = rng.random()
            if r < 0.4:
                f = rng.choice(frag)
                a = rng.randint(0, len(f)); parts.append(f[a:a + rng.randint(0, maxlen)])
            elif r < 0.7:
                parts.append("".join(rng.choice(chars) for _ in range(rng.randint(1, 12))))
            elif r < 0.85:
                parts.append(rng.choice([" ", "  ", "\t", "\n", " \n ", "   ", "\n\n"]))
            else:
                parts.append(rng.choice(specials) if specials else " ")
        out.append("".join(parts))
    return out
