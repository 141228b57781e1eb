#include "codecs/QuicDecoder.h"

#include "wire/ProtocolError.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string>
#include <tuple>
#include <vector>

// How the QUIC stream is built (what spice-common's quic.c encoder writes; the layout of this
// file is our own):
//
// * Pixels are split into planes (R, G, B; alpha; grey). Each plane value is predicted: on the
//   first row from its left neighbour (the very first pixel from 0); on the other rows from
//   the pixel above (first column) or the mean of the left and upper neighbours. The error,
//   taken modulo 2^bits, is folded to a small non-negative "residual" (0, -1, +1, -2, ...).
// * A residual is written with a Golomb-Rice code whose parameter is chosen per plane from the
//   residual of the previous pixel (the "context"): contexts are grouped in buckets of
//   doubling size, and each bucket remembers which parameter would have coded the values seen
//   so far in the fewest bits. Codes too long for the 26-bit limit become escape codewords.
// * Models are not updated after every pixel: a counter drawn from a fixed pseudo-random table
//   picks the next pixel to learn from. The random range (the "wait mask") starts at 0 and
//   widens every 2048 pixels until it reaches 63.
// * From the second row on, when the two pixels above are equal and so are the two pixels to
//   the left, the encoder writes a run length instead of pixels: how many more pixels repeat
//   the left one. Runs use an adaptive unary/binary code (MELCODE, as in JPEG-LS).
// * RGB images share one update schedule and run coder for the three planes, which are coded
//   interleaved, pixel by pixel. RGBA codes each row's RGB first and then the same row's alpha
//   plane with a schedule and run coder of its own. GRAY is a single plane.
//
// Every rule below must match the encoder bit for bit: a decoder that learns or predicts
// differently does not fail, it silently drifts.

namespace saffron {

namespace {

constexpr uint32_t kMagic = 0x43495551; // "QUIC", read as a little-endian word
constexpr uint32_t kVersion = 0;        // major 0, minor 0: the only version ever defined

// quic.h QuicImageType.
enum QuicType : uint32_t {
    kGray = 1,
    kRgb16 = 2,
    kRgb24 = 3,
    kRgb32 = 4,
    kRgba = 5,
};

// A folded prediction error (see CodeFamily::unfold), which is also the context of the next
// pixel. A distinct type rather than uint8_t: stores through a character type may alias
// anything, and the compiler would then reload the bit reader and the models after every one.
enum class Residual : uint8_t {};

[[noreturn]] [[gnu::cold]] [[gnu::noinline]] void fail(const std::string& what) {
    throw ProtocolError("quic image: " + what);
}

// The hot loops only call these, so that no string is built on their paths.
[[noreturn]] [[gnu::cold]] [[gnu::noinline]] void failTruncated() {
    fail("data ends before the last pixel");
}
[[noreturn]] [[gnu::cold]] [[gnu::noinline]] void failCodeword() {
    fail("invalid codeword");
}
[[noreturn]] [[gnu::cold]] [[gnu::noinline]] void failRun(uint32_t limit) {
    fail("run of more than " + std::to_string(limit) + " pixels left in the segment");
}

// Everything on the per-sample path is forced inline: the decoder keeps its bit reader in a
// local variable, and one out-of-line call taking its address would pin it to memory.
#define QUIC_INLINE [[gnu::always_inline]] inline

// ---------------------------------------------------------------------------------------------
// Bit input.
//
// The encoder packs bits most-significant first into 32-bit words stored little-endian. The
// decoder always looks 32 bits ahead (the next codeword is at most 26 bits, a run's remainder
// at most 15), and the encoder ends the stream with a zero word so that this look-ahead never
// runs off the end of valid data. We keep that contract: after every step at least 32 unread
// bits must be loaded, and a stream that cannot provide them is truncated. Trailing bytes that
// do not make a whole word are ignored, as spice-gtk does (it passes len >> 2 words).
class BitReader {
public:
    explicit BitReader(std::span<const uint8_t> bytes) : bytes_(bytes), words_(bytes.size() / 4) { skip(0); }

    // The next 32 bits of the stream, first bit in the most significant position.
    QUIC_INLINE uint32_t peek() const { return static_cast<uint32_t>(window_ >> 32); }

    // Consumes n <= 32 bits and tops the window up to at least 32 again. (A branch-free
    // refill, fetching from a clamped index and checking for overruns once per row, measured
    // about 5% slower: the branch below is well predicted.)
    QUIC_INLINE void skip(unsigned n) {
        window_ <<= n;
        loaded_ -= n;
        if (loaded_ < 32) {
            if (next_ == words_) [[unlikely]]
                failTruncated();
            window_ |= uint64_t(wordAt(next_)) << (32 - loaded_);
            loaded_ += 32;
            ++next_;
        }
    }

    uint32_t take32() {
        const uint32_t v = peek();
        skip(32);
        return v;
    }

    size_t totalBits() const { return words_ * 32; }

private:
    QUIC_INLINE uint32_t wordAt(size_t index) const {
        const auto w = bytes_.subspan(index * 4, 4);
        return uint32_t(w[0]) | uint32_t(w[1]) << 8 | uint32_t(w[2]) << 16 | uint32_t(w[3]) << 24;
    }

    std::span<const uint8_t> bytes_;
    size_t words_;
    size_t next_ = 0;     // words loaded so far
    uint64_t window_ = 0; // unread bits, left-aligned
    unsigned loaded_ = 0; // how many of them are valid
};

// ---------------------------------------------------------------------------------------------
// Code tables of one sample depth ("family" in quic.c): 8 bits for RGB24/32, RGBA and GRAY,
// 5 bits for RGB16.

constexpr unsigned kMaxCodewordBits = 26; // quic.c DEFmaxclen

template <unsigned Bits> struct CodeFamily {
    static constexpr uint32_t kLevels = 1u << Bits;
    static constexpr uint32_t kMask = kLevels - 1;

    // How codewords of Golomb-Rice parameter k look. A value v below riceValues is coded as
    // (v >> k) zeros, a one, then the low k bits of v. Larger values would need too many
    // zeros; they get an escape instead: `prefix` zeros and then v - riceValues in
    // escapeBits - prefix bits. A window with at least `prefix` leading zeros, i.e. one not
    // above escapeAbove, therefore starts with an escape.
    struct Parameter {
        uint32_t escapeAbove = 0;
        uint16_t riceValues = 0;
        uint8_t escapeBits = 0;
        uint8_t suffixMask = 0;
    };
    std::array<Parameter, Bits> parameter{};

    // Tables indexed by a residual byte. Only the first kLevels entries are reachable from a
    // valid stream (decoded residuals are range-checked); the rest are filled harmlessly so
    // that no index is ever out of range.
    std::array<std::array<uint8_t, Bits>, 256> codeLength{}; // bits taken by value v with parameter k
    std::array<uint8_t, 256> unfold{};                       // residual -> prediction error mod 2^Bits
    std::array<uint8_t, 256> bucketOf{};                     // context -> model bucket
};

template <unsigned Bits> constexpr CodeFamily<Bits> makeCodeFamily() {
    using Family = CodeFamily<Bits>;
    Family f;
    for (unsigned k = 0; k < Bits; ++k) {
        // A unary part of 2^(Bits-k) - 1 zeros already covers every value: no longer prefix.
        const unsigned prefix = std::min(kMaxCodewordBits - Bits, (1u << (Bits - k)) - 1);
        const unsigned riceValues = prefix << k;
        const unsigned escaped = Family::kLevels - riceValues;                          // >= 1
        const unsigned suffixBits = static_cast<unsigned>(std::bit_width(escaped - 1)); // ceil(log2)
        auto& p = f.parameter[k];
        p.escapeAbove = 0xffffffffu >> prefix;
        p.riceValues = static_cast<uint16_t>(riceValues);
        p.escapeBits = static_cast<uint8_t>(prefix + suffixBits);
        p.suffixMask = static_cast<uint8_t>((1u << suffixBits) - 1);
        for (unsigned v = 0; v < 256; ++v)
            f.codeLength[v][k] =
                static_cast<uint8_t>(v < riceValues ? (v >> k) + 1 + k : prefix + suffixBits);
    }
    for (unsigned v = 0; v < 256; ++v) {
        // Residuals 0, 1, 2, 3, 4... stand for errors 0, -1, +1, -2, +2...
        if (v < Family::kLevels)
            f.unfold[v] = static_cast<uint8_t>(v & 1 ? Family::kMask - (v >> 1) : v >> 1);
        // Buckets hold contexts {0}, {1,2}, {3..6}, {7..14}, ...; the last one also takes
        // everything above it, which leaves exactly Bits buckets.
        f.bucketOf[v] = static_cast<uint8_t>(std::min<unsigned>(std::bit_width(v + 1) - 1, Bits - 1));
    }
    return f;
}

template <unsigned Bits> inline constexpr CodeFamily<Bits> kFamily = makeCodeFamily<Bits>();

// Reads one residual coded with Golomb-Rice parameter k.
template <unsigned Bits> QUIC_INLINE uint32_t readResidual(BitReader& in, unsigned k) {
    const auto& param = kFamily<Bits>.parameter[k];
    const uint32_t window = in.peek();
    if (window > param.escapeAbove) [[likely]] {
        // Non-zero (it is above a mask), so countl_zero is below 32.
        const unsigned zeros = static_cast<unsigned>(std::countl_zero(window));
        const unsigned length = zeros + 1 + k;
        const uint32_t value = zeros << k | ((window >> (32 - length)) & ((1u << k) - 1));
        in.skip(length);
        return value;
    }
    const unsigned length = param.escapeBits;
    const uint32_t value = param.riceValues + ((window >> (32 - length)) & param.suffixMask);
    // Escape suffixes are rounded up to whole bits, so some of them name values that do not exist.
    if (value >= CodeFamily<Bits>::kLevels) [[unlikely]]
        failCodeword();
    in.skip(length);
    return value;
}

// ---------------------------------------------------------------------------------------------
// The adaptive model of one plane.
template <unsigned Bits> class PlaneModel {
public:
    // The Golomb-Rice parameter to use after a pixel whose residual was `context`.
    unsigned parameterFor(Residual context) const { return best_[bucketOf(context)]; }

    // Accounts for `value` having followed `context`: every candidate parameter is charged
    // the length it would have spent, and the cheapest becomes the bucket's choice (ties go
    // to the smaller parameter, scanning down from the largest). Once even the cheapest total
    // passes `threshold` all totals are halved, so that recent data weighs more.
    void learn(Residual context, Residual value, unsigned threshold) {
        const unsigned bucket = bucketOf(context);
        auto& cost = cost_[bucket];
        const auto& length = kFamily<Bits>.codeLength[static_cast<uint8_t>(value)];
        unsigned best = Bits - 1;
        uint32_t bestCost = cost[best] += length[best];
        for (unsigned k = Bits - 1; k-- > 0;) {
            const uint32_t c = cost[k] += length[k];
            if (c < bestCost) {
                best = k;
                bestCost = c;
            }
        }
        best_[bucket] = static_cast<uint8_t>(best);
        if (bestCost > threshold) {
            for (uint32_t& c : cost)
                c >>= 1;
        }
    }

private:
    static unsigned bucketOf(Residual context) {
        return kFamily<Bits>.bucketOf[static_cast<uint8_t>(context)];
    }

    // Per bucket: the running code length of each parameter, and the current choice. The
    // encoder starts every bucket at the largest parameter.
    std::array<std::array<uint32_t, Bits>, Bits> cost_{};
    std::array<uint8_t, Bits> best_ = [] {
        std::array<uint8_t, Bits> b{};
        b.fill(Bits - 1);
        return b;
    }();
};

// ---------------------------------------------------------------------------------------------
// When models learn. After each coded (not run-length) pixel a countdown is decremented; when
// it is already zero, that pixel is learnt from and a new countdown is drawn: the next entry
// of a fixed table, masked by the current wait mask. The mask is 2^index - 1, and the index
// grows by one every 2048 pixels (counting run pixels too) until it reaches 6.
class LearnSchedule {
public:
    static constexpr unsigned kLastIndex = 6;         // quic.c DEFwmimax
    static constexpr uint32_t kPixelsPerIndex = 2048; // quic.c DEFwminext

    bool ramping() const { return index_ < kLastIndex; }
    uint32_t pixelsLeftAtIndex() const { return left_; }
    uint32_t waitMask() const { return (1u << index_) - 1; }
    // Bucket totals are halved above this; quic.c's table for its default evolution mode 3.
    unsigned threshold() const { return kHalvingThreshold[index_]; }

    // `pixels` (at most pixelsLeftAtIndex()) were decoded at the current index.
    void advance(uint32_t pixels) {
        left_ -= pixels;
        if (left_ == 0) {
            ++index_;
            left_ = kPixelsPerIndex;
        }
    }

    // Called after each coded pixel: true when the models must learn from it.
    bool due(uint32_t waitMask) {
        if (countdown_ != 0) {
            --countdown_;
            return false;
        }
        countdown_ = kWaitTable[++draw_] & waitMask;
        return true;
    }

private:
    static constexpr std::array<uint16_t, kLastIndex + 1> kHalvingThreshold{110, 550, 900, 800,
                                                                            550, 400, 350};

    // The low six bits of quic.c's tabrand_chaos table (the wait mask never exceeds 63, so
    // nothing else of it reaches the stream). Draws start at entry 0.
    static constexpr std::array<uint8_t, 256> kWaitTable{
        2,  23, 19, 21, 7,  18, 40, 14, 12, 32, 47, 44, 36, 6,  18, 11, 4,  19, 42, 29, 16, 63, 57, 51,
        16, 3,  5,  14, 15, 30, 20, 9,  36, 45, 3,  57, 61, 0,  8,  5,  41, 14, 43, 27, 43, 59, 31, 35,
        39, 60, 42, 38, 13, 54, 62, 1,  26, 3,  11, 61, 52, 34, 7,  48, 4,  59, 22, 12, 22, 8,  50, 4,
        10, 6,  44, 8,  11, 46, 31, 51, 53, 17, 1,  43, 46, 60, 36, 54, 10, 27, 39, 44, 22, 41, 23, 2,
        44, 0,  40, 53, 40, 48, 16, 43, 32, 28, 33, 12, 20, 2,  56, 62, 55, 58, 18, 20, 13, 55, 38, 29,
        57, 19, 49, 33, 47, 63, 59, 0,  35, 61, 19, 25, 46, 38, 60, 4,  35, 1,  26, 40, 28, 10, 5,  14,
        25, 18, 48, 49, 20, 59, 62, 34, 46, 7,  33, 52, 34, 58, 9,  29, 8,  55, 62, 60, 37, 36, 37, 50,
        6,  3,  10, 28, 48, 24, 26, 61, 57, 30, 11, 54, 2,  6,  50, 47, 7,  17, 35, 53, 32, 12, 23, 17,
        5,  21, 49, 55, 51, 45, 52, 27, 39, 25, 39, 63, 22, 24, 42, 52, 56, 38, 41, 41, 56, 32, 13, 24,
        26, 51, 27, 56, 58, 37, 24, 42, 15, 28, 17, 30, 31, 15, 16, 23, 25, 54, 33, 34, 1,  29, 31, 50,
        53, 21, 49, 15, 47, 9,  0,  58, 37, 45, 30, 13, 9,  45, 63, 21,
    };

    uint32_t countdown_ = 0;
    uint8_t draw_ = 0xff; // pre-incremented: the first draw reads entry 0
    unsigned index_ = 0;
    uint32_t left_ = kPixelsPerIndex;
};

// ---------------------------------------------------------------------------------------------
// Run lengths (MELCODE). The coder has 32 states; state s has an order of 2^kOrder[s]. Each 1
// bit stands for a full chunk of 2^order repeated pixels and moves one state up; a 0 ends the
// chunks and is followed by the remainder in `order` bits (of the state reached); every run
// then moves one state down.
class RunDecoder {
public:
    // Reads one run; throws when it is longer than `limit`, the pixels left in the segment
    // (the encoder never runs across a segment, see PlaneGroupDecoder::decodeRow).
    QUIC_INLINE uint32_t read(BitReader& in, uint32_t limit) {
        uint32_t run = 0;
        for (;;) {
            const unsigned ones = static_cast<unsigned>(std::countl_one(in.peek()));
            for (unsigned i = 0; i < ones; ++i) {
                run += 1u << kOrder[state_];
                if (state_ + 1 < kOrder.size())
                    ++state_;
                // Checked per chunk: a stream of 1 bits must not spin through megabytes.
                if (run > limit)
                    failRun(limit);
            }
            if (ones < 32) {
                in.skip(ones + 1);
                break;
            }
            in.skip(32);
        }
        if (const unsigned bits = kOrder[state_]; bits != 0) {
            run += in.peek() >> (32 - bits);
            in.skip(bits);
        }
        if (state_ > 0)
            --state_;
        if (run > limit)
            failRun(limit);
        return run;
    }

private:
    // quic.c's J table (the JPEG-LS run orders).
    static constexpr std::array<uint8_t, 32> kOrder{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,  2,  3,  3,  3,  3,
                                                    4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    unsigned state_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Where a group of planes lives in a Pixmap word, and how it is written back.

template <unsigned Bits> constexpr uint32_t widen(uint32_t v) {
    if constexpr (Bits == 8)
        return v;
    else
        return v << 3 | v >> 2; // 5 -> 8 bits by bit replication, as spice's RGB16 -> RGB32
}

// R, G, B (coded in that order) of RGB32/RGB24 (8 bits) or RGB16 (5 bits). `Alpha` fills the
// top byte: 0xff for opaque types, 0 for RGBA whose alpha plane is decoded afterwards.
template <unsigned Bits, uint32_t Alpha> struct RgbPlanes {
    static constexpr unsigned kBits = Bits;
    static constexpr unsigned kCount = 3;
    using Values = std::array<uint32_t, kCount>;

    static uint32_t get(uint32_t pixel, unsigned plane) {
        return ((pixel >> (16 - 8 * plane)) & 0xff) >> (8 - Bits);
    }
    static bool same(uint32_t a, uint32_t b) { return ((a ^ b) & 0x00ffffff) == 0; }
    static uint32_t put(uint32_t /*old*/, const Values& v) {
        return Alpha | widen<Bits>(v[0]) << 16 | widen<Bits>(v[1]) << 8 | widen<Bits>(v[2]);
    }
    static uint32_t repeat(uint32_t /*old*/, uint32_t left) { return left; }
};

// The alpha plane of RGBA, decoded after the row's RGB: it only touches the top byte.
struct AlphaPlane {
    static constexpr unsigned kBits = 8;
    static constexpr unsigned kCount = 1;
    using Values = std::array<uint32_t, kCount>;

    static uint32_t get(uint32_t pixel, unsigned /*plane*/) { return pixel >> 24; }
    static bool same(uint32_t a, uint32_t b) { return ((a ^ b) >> 24) == 0; }
    static uint32_t put(uint32_t old, const Values& v) { return (old & 0x00ffffff) | v[0] << 24; }
    static uint32_t repeat(uint32_t old, uint32_t left) { return (old & 0x00ffffff) | (left & 0xff000000); }
};

// GRAY: one plane, shown as opaque grey. The value is read back from the blue byte.
struct GrayPlane {
    static constexpr unsigned kBits = 8;
    static constexpr unsigned kCount = 1;
    using Values = std::array<uint32_t, kCount>;

    static uint32_t get(uint32_t pixel, unsigned /*plane*/) { return pixel & 0xff; }
    static bool same(uint32_t a, uint32_t b) { return ((a ^ b) & 0xff) == 0; }
    static uint32_t put(uint32_t /*old*/, const Values& v) { return 0xff000000u | v[0] * 0x010101u; }
    static uint32_t repeat(uint32_t /*old*/, uint32_t left) { return left; }
};

// ---------------------------------------------------------------------------------------------
// Decodes the planes of one group, row by row, into Pixmap rows.
template <class Planes> class PlaneGroupDecoder {
    static constexpr unsigned kBits = Planes::kBits;
    static constexpr unsigned kCount = Planes::kCount;
    static constexpr uint32_t kMask = CodeFamily<kBits>::kMask;
    using Values = typename Planes::Values;

public:
    explicit PlaneGroupDecoder(size_t width) : width_(width) {
        for (auto& r : residuals_)
            r.assign(width + 1, Residual{});
    }

    void decodeRow(BitReader& in, std::span<const uint32_t> above, std::span<uint32_t> row, bool first) {
        // The context of a row's first pixel is the residual of the first pixel above it (0 on
        // the first row). Slot i + 1 holds pixel i's residual; slots of pixels that end up in a
        // run keep their value from an earlier row, and the encoder uses those stale values as
        // contexts too.
        for (auto& r : residuals_)
            r[0] = first ? Residual{} : r[1];
        // Rows are cut where the wait mask changes; the encoder codes each piece on its own
        // ("segments" in quic.c), which matters for runs: they never cross a cut.
        // The reader is copied to a local so that its state can live in registers.
        BitReader bits = in;
        size_t pos = 0;
        while (pos < width_) {
            const bool ramping = schedule_.ramping();
            const size_t end =
                ramping ? std::min<size_t>(width_, pos + schedule_.pixelsLeftAtIndex()) : width_;
            const uint32_t waitMask = schedule_.waitMask();
            if (first)
                decodeFirstRowSegment(bits, row, pos, end, waitMask);
            else
                decodeSegment(bits, above, row, pos, end, waitMask);
            if (ramping)
                schedule_.advance(static_cast<uint32_t>(end - pos));
            pos = end;
        }
        in = bits;
    }

private:
    // Reads the residual of pixel i in `plane`, records it, and returns its prediction error.
    QUIC_INLINE uint32_t readError(BitReader& in, unsigned plane, size_t i) {
        auto& residuals = residuals_[plane];
        const unsigned k = models_[plane].parameterFor(residuals[i]);
        const uint32_t r = readResidual<kBits>(in, k);
        residuals[i + 1] = static_cast<Residual>(r);
        return kFamily<kBits>.unfold[r];
    }

    void afterCodedPixel(size_t i, uint32_t waitMask) {
        if (!schedule_.due(waitMask))
            return;
        for (unsigned p = 0; p < kCount; ++p)
            models_[p].learn(residuals_[p][i], residuals_[p][i + 1], schedule_.threshold());
    }

    // First row: no row above, no runs.
    QUIC_INLINE void decodeFirstRowSegment(BitReader& in, std::span<uint32_t> row, size_t begin, size_t end,
                                           uint32_t waitMask) {
        Values left{};
        if (begin > 0) {
            for (unsigned p = 0; p < kCount; ++p)
                left[p] = Planes::get(row[begin - 1], p);
        }
        // The first pixel is predicted as 0, which is what `left` holds then.
        for (size_t i = begin; i < end; ++i) {
#pragma GCC unroll 4
            for (unsigned p = 0; p < kCount; ++p)
                left[p] = (readError(in, p, i) + left[p]) & kMask;
            row[i] = Planes::put(row[i], left);
            afterCodedPixel(i, waitMask);
        }
    }

    QUIC_INLINE void decodeSegment(BitReader& in, std::span<const uint32_t> above, std::span<uint32_t> row,
                                   size_t begin, size_t end, uint32_t waitMask) {
        Values left{};
        size_t i = begin;
        if (i == 0) { // column 0 is predicted from the pixel above alone
#pragma GCC unroll 4
            for (unsigned p = 0; p < kCount; ++p)
                left[p] = (readError(in, p, 0) + Planes::get(above[0], p)) & kMask;
            row[0] = Planes::put(row[0], left);
            afterCodedPixel(0, waitMask);
            i = 1;
        } else {
            for (unsigned p = 0; p < kCount; ++p)
                left[p] = Planes::get(row[i - 1], p);
        }
        // A run that ends before the segment does is followed by another run test at the same
        // pixel; a run of length 0 is how the encoder says "no run here after all", and then
        // the pixel must be coded normally. Runs never start before column 3, so 0 = none.
        size_t lastRunStart = 0;
        while (i < end) {
            if (i > 2 && i != lastRunStart && Planes::same(above[i - 1], above[i]) &&
                Planes::same(row[i - 1], row[i - 2])) {
                lastRunStart = i;
                const size_t n = runs_.read(in, static_cast<uint32_t>(end - i));
                const uint32_t source = row[i - 1];
                for (size_t j = i; j < i + n; ++j)
                    row[j] = Planes::repeat(row[j], source);
                i += n; // `left` is unchanged: the run repeats it
                continue;
            }
            const uint32_t up = above[i];
#pragma GCC unroll 4
            for (unsigned p = 0; p < kCount; ++p)
                left[p] = (readError(in, p, i) + ((left[p] + Planes::get(up, p)) >> 1)) & kMask;
            row[i] = Planes::put(row[i], left);
            afterCodedPixel(i, waitMask);
            ++i;
        }
    }

    size_t width_;
    std::array<PlaneModel<kBits>, kCount> models_{};
    std::array<std::vector<Residual>, kCount> residuals_;
    LearnSchedule schedule_;
    RunDecoder runs_;
};

// Decodes all rows; each row is decoded by every group in turn (RGBA: RGB, then alpha).
template <class... Groups> void decodeRows(BitReader& in, Pixmap& out) {
    const size_t width = static_cast<size_t>(out.width);
    std::tuple<PlaneGroupDecoder<Groups>...> groups{PlaneGroupDecoder<Groups>(width)...};
    for (int y = 0; y < out.height; ++y) {
        const auto row = out.row(y);
        const std::span<const uint32_t> above = y > 0 ? out.row(y - 1) : std::span<const uint32_t>{};
        std::apply([&](auto&... g) { (g.decodeRow(in, above, row, y == 0), ...); }, groups);
    }
}

unsigned planeCount(uint32_t type) {
    switch (type) {
    case kGray:
        return 1;
    case kRgb16:
    case kRgb24:
    case kRgb32:
        return 3;
    case kRgba:
        return 4;
    default:
        return 0;
    }
}

#undef QUIC_INLINE

} // namespace

Pixmap decodeQuic(std::span<const uint8_t> payload, uint32_t expectedWidth, uint32_t expectedHeight) {
    if (!plausibleImageSize(expectedWidth, expectedHeight))
        fail("implausible size " + std::to_string(expectedWidth) + "x" + std::to_string(expectedHeight));
    // Five header words plus the look-ahead word.
    if (payload.size() < 6 * 4)
        fail(std::to_string(payload.size()) + " bytes is too short for the header");
    BitReader in(payload);
    if (in.take32() != kMagic)
        fail("bad magic");
    if (const uint32_t version = in.take32(); version != kVersion)
        fail("unsupported version " + std::to_string(version >> 16) + "." + std::to_string(version & 0xffff));
    const uint32_t type = in.take32();
    const uint32_t width = in.take32();
    const uint32_t height = in.take32();
    const unsigned planes = planeCount(type);
    if (planes == 0)
        fail("unknown image type " + std::to_string(type));
    if (width != expectedWidth || height != expectedHeight)
        fail("header says " + std::to_string(width) + "x" + std::to_string(height) + ", descriptor " +
             std::to_string(expectedWidth) + "x" + std::to_string(expectedHeight));

    // Every coded sample takes at least one bit, and only pixels from column 3 of the second
    // row on can be part of a run. Rejecting streams too short for that before allocating
    // keeps a few bytes from costing hundreds of megabytes.
    const uint64_t w = width;
    const uint64_t h = height;
    const uint64_t minSampleBits = planes * (w + (h - 1) * std::min<uint64_t>(w, 3));
    if (uint64_t(in.totalBits()) < 6 * 32 + minSampleBits)
        fail(std::to_string(payload.size()) + " bytes cannot hold a " + std::to_string(width) + "x" +
             std::to_string(height) + " image");

    Pixmap out(static_cast<int>(width), static_cast<int>(height), type == kRgba);
    switch (type) {
    case kGray:
        decodeRows<GrayPlane>(in, out);
        break;
    case kRgb16:
        decodeRows<RgbPlanes<5, 0xff000000u>>(in, out);
        break;
    case kRgb24:
    case kRgb32: // same coding; RGB32's fourth byte is padding and is not coded
        decodeRows<RgbPlanes<8, 0xff000000u>>(in, out);
        break;
    case kRgba:
        decodeRows<RgbPlanes<8, 0u>, AlphaPlane>(in, out);
        break;
    }
    return out;
}

} // namespace saffron
