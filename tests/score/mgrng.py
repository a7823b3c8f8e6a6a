"""Python transcription of mg-score's documented bootstrap resampling:
xoshiro256** (Blackman & Vigna) seeded by splitmix64 from seed + replicate,
Lemire's multiply-and-reject bounded integers."""

MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


class Xoshiro:
    def __init__(self, seed):
        st = seed & MASK
        self.s = []
        for _ in range(4):
            st, v = splitmix64(st)
            self.s.append(v)

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        m = self.next() * n
        lo = m & MASK
        if lo < n:
            t = (-n) % n
            while lo < t:
                m = self.next() * n
                lo = m & MASK
        return m >> 64


def resample(seed, b, n):
    """Case indices of bootstrap replicate b."""
    g = Xoshiro(seed + b)
    return [g.below(n) for _ in range(n)]
