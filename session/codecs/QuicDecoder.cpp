#include "codecs/QuicDecoder.h"

#include "wire/ProtocolError.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// A folded prediction error (see unfold()), which is also the context of the next pixel. A
// distinct type rather than uint8_t: stores through a character type may alias anything, and
// the compiler would then reload the bit reader and the models after every one.
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
// local variable, and one out-of-line call taking its address would pin it to memory. It also
// puts all of the decoder into the two entry points of Decoder (below), so that their two
// builds really are built for different instruction sets.
#define QUIC_INLINE [[gnu::always_inline]] inline

// ---------------------------------------------------------------------------------------------
// Bit input.
//
// The encoder packs bits most-significant first into 32-bit words stored little-endian, and
// ends the stream with a zero word: its decoder always looks 32 bits ahead, so a valid stream
// never has more than (words - 1) * 32 bits consumed, and one that needs more is truncated.
// Trailing bytes that do not make a whole word are ignored, as spice-gtk does (it passes
// len >> 2 words).
//
// The reader keeps a 64-bit window whose top bit is the next unread one. A refill ORs in the
// next two words at once, below the bits still loaded, so after it all 64 window bits are
// stream bits (the second word is only partly inside; the next refill ORs it in again at the
// same place, which changes nothing). Only the first word is counted as loaded, which keeps
// `avail_` (the bits we may take) at 32 or more after a refill and the OR shift below 64.
//
// Safety: the payload is only read by refill() and topUp(). They load 8 bytes unchecked only
// while both words lie inside the payload (next_ < fastWords_); the last word goes through
// checkedPair(), which reads words past the end as zero and throws once a refill would start
// past the last word. A valid stream never gets that far (see checkedPair()), and the exact
// end condition, that at most (words - 1) * 32 bits were consumed, is checked by checkEnd()
// after the last pixel; a truncated or garbage stream decodes at most one word of zeros
// before it is rejected. Reading ahead never changes a result: every decision depends only on
// the bits of the code being decoded.
class BitReader {
public:
    explicit BitReader(std::span<const uint8_t> bytes)
        : bytes_(bytes.first(bytes.size() / 4 * 4)), words_(bytes.size() / 4),
          fastWords_(words_ > 0 ? words_ - 1 : 0) {}

    // The unread bits, first one in the most significant position. At least avail_ of them,
    // 32 or more after a refill, are stream bits.
    QUIC_INLINE uint64_t window() const { return window_; }

    // Makes sure that at least n <= 32 bits can be consumed.
    QUIC_INLINE void ensure(unsigned n) {
        if (avail_ < n) [[unlikely]]
            refill();
    }

    // Consumes n bits; the caller has ensure()d them. Only the low 6 bits of n count, so that
    // a sample word (its length is the low byte, at most 26) can be passed as it is: x86
    // shifts mask their count the same way, and the compiler drops the mask.
    QUIC_INLINE void consume(unsigned n) {
        window_ <<= n & 63;
        avail_ -= n & 63;
    }

    // For the pixel loop of decodeCommonPixels: whether topUp() may read ahead without a
    // check, and a refill without a branch, which is cheaper there than a mispredicted one:
    // it loads the next two words again whatever is left, and counts the first one as loaded
    // only when fewer than 32 bits were. Leaves at least 32 bits.
    QUIC_INLINE bool canTopUp() const { return next_ < fastWords_; }
    QUIC_INLINE void topUp() {
        window_ |= pair(next_) >> avail_;
        // avail_ < 64, so bit 5 says whether it is 32 or more already.
        next_ += (avail_ >> 5) ^ 1;
        avail_ |= 32;
    }

    uint32_t take32() {
        ensure(32);
        const auto v = static_cast<uint32_t>(window_ >> 32);
        consume(32);
        return v;
    }

    size_t totalBits() const { return words_ * 32; }

    // Throws when more bits were consumed than a complete stream provides: all but the final
    // look-ahead word.
    void checkEnd() const {
        if (uint64_t(next_) * 32 - avail_ + 32 > uint64_t(words_) * 32)
            failTruncated();
    }

private:
    // Called with avail_ < 32 only (ensure() never asks for more).
    QUIC_INLINE void refill() {
        const uint64_t ahead = next_ < fastWords_ ? pair(next_) : checkedPair(bytes_, next_);
        window_ |= ahead >> avail_;
        avail_ += 32;
        ++next_;
    }

    // Words `index` and `index + 1` as 64 stream bits; both must be inside the payload.
    QUIC_INLINE uint64_t pair(size_t index) const {
        uint64_t v;
        std::memcpy(&v, bytes_.subspan(index * 4, 8).data(), 8);
        if constexpr (std::endian::native == std::endian::little)
            return std::rotl(v, 32); // word `index` was the low half
        else
            return uint64_t(__builtin_bswap32(static_cast<uint32_t>(v >> 32))) << 32 |
                   __builtin_bswap32(static_cast<uint32_t>(v));
    }

    // The same for the last two words. A refill happens with fewer than 32 bits left in the
    // window, so one that starts at the last word or later comes after more than
    // (words - 1) * 32 bits were consumed: the stream is truncated. (Static, taking copies:
    // a member function would take the reader's address and keep it out of registers.)
    [[gnu::noinline]] [[gnu::cold]] static uint64_t checkedPair(std::span<const uint8_t> bytes,
                                                                size_t index) {
        const size_t words = bytes.size() / 4;
        if (index >= words)
            failTruncated();
        const uint64_t second = index + 1 < words ? wordAt(bytes, index + 1) : 0;
        return uint64_t(wordAt(bytes, index)) << 32 | second;
    }

    static uint32_t wordAt(std::span<const uint8_t> bytes, size_t index) {
        const auto w = bytes.subspan(index * 4, 4);
        return uint32_t(w[0]) | uint32_t(w[1]) << 8 | uint32_t(w[2]) << 16 | uint32_t(w[3]) << 24;
    }

    std::span<const uint8_t> bytes_; // whole words only
    size_t words_;
    size_t fastWords_;    // refills at a word below this may load 8 bytes unchecked
    uint64_t window_ = 0; // see above
    unsigned avail_ = 0;  // window bits that may be consumed, all from words before next_; < 64
    size_t next_ = 0;     // first word not counted as loaded
};

// ---------------------------------------------------------------------------------------------
// Code tables of one sample depth ("family" in quic.c): 8 bits for RGB24/32, RGBA and GRAY,
// 5 bits for RGB16.

constexpr unsigned kMaxCodewordBits = 26; // quic.c DEFmaxclen

// A decoded sample, as one word: how many bits its code took, the residual, and the
// prediction error it stands for (see unfold()), each in a byte. The short-code tables hold
// these words ready-made, so that decoding a typical sample is one load; the layout puts the
// error where RGB's red channel goes, which saves a shift when the pixel is assembled.
namespace sample {
constexpr unsigned kResidualShift = 8;
constexpr unsigned kErrorShift = 16;
constexpr unsigned kParameterShift = 24; // table entries only: the parameter they belong to
constexpr uint32_t kLengthMask = 0xff;
inline constexpr uint32_t residual(uint32_t s) {
    return (s >> kResidualShift) & 0xff;
}
inline constexpr uint32_t error(uint32_t s) {
    return (s >> kErrorShift) & 0xff;
}
} // namespace sample

// Residuals 0, 1, 2, 3, 4... stand for prediction errors 0, -1, +1, -2, +2... (mod 2^Bits).
template <unsigned Bits> constexpr uint32_t unfold(uint32_t residual) {
    return (residual & 1 ? ~(residual >> 1) : residual >> 1) & ((1u << Bits) - 1);
}

template <unsigned Bits> constexpr uint32_t makeSample(unsigned length, uint32_t residual) {
    return length | residual << sample::kResidualShift | unfold<Bits>(residual) << sample::kErrorShift;
}

template <unsigned Bits> struct CodeFamily {
    static constexpr uint32_t kLevels = 1u << Bits;
    static constexpr uint32_t kMask = kLevels - 1;
    // The short-code tables are indexed by this many leading bits of the stream. 8 covers
    // all codes of smooth images and most of noisy photos, and keeps a family's tables at
    // 8 KiB; longer codes take the slower way (decodeLong).
    static constexpr unsigned kShortBits = 8;

    // How codewords of Golomb-Rice parameter k look. A value v below riceValues is coded as
    // (v >> k) zeros, a one, then the low k bits of v. Larger values would need too many
    // zeros; they get an escape instead: `prefix` zeros and then v - riceValues in
    // escapeBits - prefix bits. A window with at least `prefix` leading zeros, i.e. one below
    // escapeBelow, therefore starts with an escape.
    struct Parameter {
        uint64_t escapeBelow = 0;
        uint16_t riceValues = 0;
        uint8_t escapeBits = 0;
        uint8_t suffixMask = 0;
    };
    std::array<Parameter, Bits> parameter{};

    // Bits taken by residual v with parameter k, for every residual byte. Only the first
    // kLevels entries are reachable from a valid stream (decoded residuals are range-checked);
    // the rest are filled harmlessly so that no index is ever out of range. Rows have 8
    // entries whatever Bits is (the rest 0), the width PlaneModel::learn works in.
    std::array<std::array<uint8_t, 8>, 256> codeLength{};

    // Per parameter k, 2^kShortBits entries: the sample whose code starts with those bits,
    // or, where the code is longer (or an invalid escape), 0 in the length byte and k in the
    // top byte.
    std::array<uint32_t, (Bits << kShortBits)> shortCode{};
};

template <unsigned Bits> constexpr CodeFamily<Bits> makeCodeFamily() {
    using Family = CodeFamily<Bits>;
    constexpr unsigned kShort = Family::kShortBits;
    Family f;
    for (unsigned k = 0; k < Bits; ++k) {
        // A unary part of 2^(Bits-k) - 1 zeros already covers every value: no longer prefix.
        const unsigned prefix = std::min(kMaxCodewordBits - Bits, (1u << (Bits - k)) - 1);
        const unsigned riceValues = prefix << k;
        const unsigned escaped = Family::kLevels - riceValues;                          // >= 1
        const unsigned suffixBits = static_cast<unsigned>(std::bit_width(escaped - 1)); // ceil(log2)
        auto& p = f.parameter[k];
        p.escapeBelow = uint64_t(1) << (64 - prefix);
        p.riceValues = static_cast<uint16_t>(riceValues);
        p.escapeBits = static_cast<uint8_t>(prefix + suffixBits);
        p.suffixMask = static_cast<uint8_t>((1u << suffixBits) - 1);
        for (unsigned v = 0; v < 256; ++v)
            f.codeLength[v][k] =
                static_cast<uint8_t>(v < riceValues ? (v >> k) + 1 + k : prefix + suffixBits);
        for (unsigned bits = 0; bits < (1u << kShort); ++bits) {
            // The same decision as decodeLong(), on the first kShort bits only.
            const auto zeros = static_cast<unsigned>(std::countl_zero(static_cast<uint8_t>(bits)));
            uint32_t s = k << sample::kParameterShift; // "too long" unless found below
            if (zeros < prefix) {
                const unsigned length = zeros + 1 + k;
                if (length <= kShort)
                    s = makeSample<Bits>(length,
                                         zeros << k | ((bits >> (kShort - length)) & ((1u << k) - 1)));
            } else if (p.escapeBits <= kShort) { // prefix <= kShort here, so it is an escape
                const uint32_t value = riceValues + ((bits >> (kShort - p.escapeBits)) & p.suffixMask);
                if (value < Family::kLevels)
                    s = makeSample<Bits>(p.escapeBits, value);
            }
            f.shortCode[k << kShort | bits] = s;
        }
    }
    return f;
}

template <unsigned Bits> inline constexpr CodeFamily<Bits> kFamily = makeCodeFamily<Bits>();

// Decodes a code of parameter k at the top of `window`, which holds at least 26 stream bits,
// into a sample. For the codes the short tables leave out. A pure function of its arguments,
// so that calling it out of line does not take the bit reader's address.
template <unsigned Bits> [[gnu::noinline]] uint32_t decodeLong(uint64_t window, unsigned k) {
    const auto& param = kFamily<Bits>.parameter[k];
    if (window >= param.escapeBelow) {
        // Fewer than `prefix` (<= 18) leading zeros, so the one is inside the 26 bits.
        const auto zeros = static_cast<unsigned>(std::countl_zero(window));
        const unsigned length = zeros + 1 + k;
        const uint32_t value =
            zeros << k | (static_cast<uint32_t>(window >> (64 - length)) & ((1u << k) - 1));
        return makeSample<Bits>(length, value);
    }
    const unsigned length = param.escapeBits;
    const uint32_t value =
        param.riceValues + (static_cast<uint32_t>(window >> (64 - length)) & param.suffixMask);
    // Escape suffixes are rounded up to whole bits, so some of them name values that do not exist.
    if (value >= CodeFamily<Bits>::kLevels)
        failCodeword();
    return makeSample<Bits>(length, value);
}

// The short-code table of one parameter: what a plane's model hands out per context.
using CodeTable = const uint32_t*;

// Reads one sample with the given parameter's table.
template <unsigned Bits> QUIC_INLINE uint32_t readSample(BitReader& in, CodeTable codes) {
    in.ensure(kMaxCodewordBits);
    constexpr unsigned kShort = CodeFamily<Bits>::kShortBits;
    uint32_t s = codes[in.window() >> (64 - kShort)];
    if ((s & sample::kLengthMask) == 0) [[unlikely]]
        s = decodeLong<Bits>(in.window(), s >> sample::kParameterShift);
    in.consume(s);
    return s;
}

// ---------------------------------------------------------------------------------------------
// The adaptive model of one plane.
template <unsigned Bits> class PlaneModel {
public:
    // The encoder starts every bucket at the largest parameter.
    PlaneModel() { setBucketParameter(0, Bits - 1, 256); }

    // The code table to use after a pixel whose residual was `context`. One load: the
    // per-context array is rewritten whenever a bucket's choice changes, which is rare next
    // to the lookups (one per sample).
    QUIC_INLINE CodeTable codesFor(uint32_t context) const { return table_[context & 0xff]; }

    // Accounts for `value` having followed `context`: every candidate parameter is charged
    // the length it would have spent, and the cheapest becomes the bucket's choice; the
    // encoder scans down from the largest parameter and only switches on a strictly smaller
    // total, so ties go to the larger one. Once even the cheapest total passes `threshold`
    // all totals are halved, so that recent data weighs more.
    //
    // The choice is the minimum of the totals each paired with Bits - 1 - k in its low byte,
    // which orders ties the encoder's way, found without a branch per parameter: the decoder
    // learns from every pixel at first, and still from every 32nd later, so this adds up.
    // Totals stay far below 2^23, so the pairs fit 32 bits: each step adds 1 to 26 to every
    // total, so the largest stays within 26 * (smallest + 1), and the smallest is halved
    // once it passes the threshold (at most 900).
    QUIC_INLINE void learn(uint32_t context, uint32_t value, unsigned threshold) {
        const unsigned bucket = bucketOf(context & 0xff);
        auto& cost = cost_[bucket];
        const auto& length = kFamily<Bits>.codeLength[value & 0xff];
        uint32_t bestKey;
#if defined(__SSE2__)
        {
            // Two vectors of four totals (RGB16's five parameters leave three lanes unused,
            // whose keys are made larger than any real one); SSE2 has no unsigned or 32-bit
            // minimum, so a (signed: the keys are positive) compare and a select stand in.
            const __m128i zero = _mm_setzero_si128();
            const __m128i length16 =
                _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(length.data())), zero);
            auto* const total = reinterpret_cast<__m128i*>(cost.data());
            const __m128i low = _mm_add_epi32(_mm_loadu_si128(total), _mm_unpacklo_epi16(length16, zero));
            const __m128i high =
                _mm_add_epi32(_mm_loadu_si128(total + 1), _mm_unpackhi_epi16(length16, zero));
            _mm_storeu_si128(total, low);
            _mm_storeu_si128(total + 1, high);
            const auto min = [](__m128i a, __m128i b) {
                const __m128i aAbove = _mm_cmpgt_epi32(a, b);
                return _mm_or_si128(_mm_and_si128(aAbove, b), _mm_andnot_si128(aAbove, a));
            };
            constexpr auto lane = [](unsigned k) { return k < Bits ? int(Bits - 1 - k) : 0x7fffffff; };
            __m128i keys =
                min(_mm_or_si128(_mm_slli_epi32(low, 8), _mm_set_epi32(lane(3), lane(2), lane(1), lane(0))),
                    _mm_or_si128(_mm_slli_epi32(high, 8), _mm_set_epi32(lane(7), lane(6), lane(5), lane(4))));
            keys = min(keys, _mm_shuffle_epi32(keys, _MM_SHUFFLE(1, 0, 3, 2)));
            keys = min(keys, _mm_shuffle_epi32(keys, _MM_SHUFFLE(2, 3, 0, 1)));
            bestKey = static_cast<uint32_t>(_mm_cvtsi128_si32(keys));
        }
#else
        {
            bestKey = ~uint32_t(0);
#pragma GCC unroll 8
            for (unsigned k = 0; k < Bits; ++k) {
                cost[k] += length[k];
                bestKey = std::min(bestKey, cost[k] << 8 | (Bits - 1 - k));
            }
        }
#endif
        const unsigned best = Bits - 1 - (bestKey & 0xff);
        if (tableOf(best) != table_[firstContext(bucket)]) [[unlikely]]
            setBucketParameter(firstContext(bucket), best,
                               bucket + 1 < Bits ? firstContext(bucket + 1) : 256);
        if ((bestKey >> 8) > threshold) {
            for (uint32_t& c : cost)
                c >>= 1;
        }
    }

private:
    // Buckets hold contexts {0}, {1,2}, {3..6}, {7..14}, ...; the last one also takes
    // everything above it, which leaves exactly Bits buckets. (Contexts of kLevels and above
    // never occur; they are mapped anyway so that every byte has a table.)
    static unsigned bucketOf(unsigned context) {
        return std::min<unsigned>(static_cast<unsigned>(std::bit_width(context + 1)) - 1, Bits - 1);
    }
    static unsigned firstContext(unsigned bucket) {
        return (1u << bucket) - 1;
    }
    static CodeTable tableOf(unsigned k) {
        return kFamily<Bits>.shortCode.data() + (k << CodeFamily<Bits>::kShortBits);
    }

    [[gnu::noinline]] void setBucketParameter(unsigned first, unsigned k, unsigned end) {
        std::fill(table_.begin() + first, table_.begin() + end, tableOf(k));
    }

    // Per context: the code table of its bucket's parameter.
    std::array<CodeTable, 256> table_;
    // Per bucket: the running code length of each parameter (8 slots, see codeLength).
    std::array<std::array<uint32_t, 8>, Bits> cost_{};
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

    // due() in two halves, for decodeCommonPixels: counts a coded pixel that the models do
    // not learn from, or returns false, counting nothing, for one they do learn from; the
    // caller then calls due() for it, which draws the next countdown.
    QUIC_INLINE bool skip() {
        if (countdown_ == 0)
            return false;
        --countdown_;
        return true;
    }

    // Called after each coded pixel: true when the models must learn from it.
    QUIC_INLINE bool due(uint32_t waitMask) {
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
            // Looks at 32 bits at a time, as much as one refill guarantees.
            in.ensure(32);
            const auto ones =
                static_cast<unsigned>(std::countl_one(static_cast<uint32_t>(in.window() >> 32)));
            for (unsigned i = 0; i < ones; ++i) {
                run += 1u << kOrder[state_];
                if (state_ + 1 < kOrder.size())
                    ++state_;
                // Checked per chunk: a stream of 1 bits must not spin through megabytes.
                if (run > limit)
                    failRun(limit);
            }
            if (ones < 32) {
                in.consume(ones + 1);
                break;
            }
            in.consume(32);
        }
        if (const unsigned bits = kOrder[state_]; bits != 0) {
            in.ensure(bits);
            run += static_cast<uint32_t>(in.window() >> (64 - bits));
            in.consume(bits);
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

// Sets every pixel of a run to `value`. Long runs are common (flat areas of a screen), and a
// plain loop compiles to one 4-byte store per iteration; four at a time become one 16-byte
// store.
QUIC_INLINE void fillPixels(std::span<uint32_t> pixels, uint32_t value) {
    size_t j = 0;
    for (; j + 4 <= pixels.size(); j += 4) {
        pixels[j] = value;
        pixels[j + 1] = value;
        pixels[j + 2] = value;
        pixels[j + 3] = value;
    }
    for (; j < pixels.size(); ++j)
        pixels[j] = value;
}

// How a group reconstructs pixels from the predictions (see decodeSegment): `Left` holds the
// left neighbour's plane values. By default one value per plane, from Planes::get/put.
// (Count and Bits repeat Planes' own constants, which are not usable yet where Planes derives
// from this.)
template <class Planes, unsigned Count, unsigned Bits> struct PlaneByPlane {
    static constexpr unsigned kBits = Bits;
    static constexpr unsigned kCount = Count;
    using Values = std::array<uint32_t, Count>;
    using Left = Values;
    static constexpr uint32_t kMask = CodeFamily<Bits>::kMask;
    static constexpr bool kPacked = false; // see RgbPlanes

    static Left left(uint32_t pixel) {
        Left l;
        for (unsigned p = 0; p < Count; ++p)
            l[p] = Planes::get(pixel, p);
        return l;
    }
    // Each plane: the error added to the mean of the left and upper neighbours.
    QUIC_INLINE static Left reconstruct(const Left& left, uint32_t up, const Values& samples) {
        Left v;
#pragma GCC unroll 4
        for (unsigned p = 0; p < Count; ++p)
            v[p] = (sample::error(samples[p]) + ((left[p] + Planes::get(up, p)) >> 1)) & kMask;
        return v;
    }
    static uint32_t store(uint32_t old, const Left& v) {
        return Planes::put(old, v);
    }
};

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
    static void repeat(std::span<uint32_t> run, uint32_t left) { fillPixels(run, left); }

    // 8-bit RGB (the common case by far) is reconstructed as one packed 0x00RRGGBB word: the
    // three planes' arithmetic is the same per byte, and done on all bytes at once ("SIMD
    // within a register") it takes a dozen instructions instead of three times as many, and
    // the result is already the pixel. RGB16's 5-bit planes go plane by plane.
    static constexpr bool kPacked = Bits == 8;
    using Left = std::conditional_t<kPacked, uint32_t, Values>;

    static Left left(uint32_t pixel) {
        if constexpr (kPacked)
            return pixel & 0x00ffffff;
        else
            return PlaneByPlane<RgbPlanes, 3, Bits>::left(pixel);
    }
    QUIC_INLINE static Left reconstruct(const Left& left, uint32_t up, const Values& samples) {
        if constexpr (kPacked) {
            // The mean of each byte pair rounded down: common bits plus half the differing
            // ones, with the bit that the shift moves into the byte below masked off.
            const uint32_t mean = (left & up) + (((left ^ up) >> 1) & 0x007f7f7f);
            // The errors, one per byte (sample::kErrorShift puts red's where it belongs).
            const uint32_t error =
                (samples[0] & 0x00ff0000) | ((samples[1] >> 8) & 0x0000ff00) | sample::error(samples[2]);
            // Bytewise sums modulo 256: add the low seven bits of each byte, then flip the top
            // bit where exactly one operand had it; no carry crosses into the next byte.
            return ((mean & 0x007f7f7f) + (error & 0x007f7f7f)) ^ ((mean ^ error) & 0x00808080);
        } else {
            return PlaneByPlane<RgbPlanes, 3, Bits>::reconstruct(left, up, samples);
        }
    }
    static uint32_t store(uint32_t old, const Left& v) {
        if constexpr (kPacked)
            return Alpha | v;
        else
            return PlaneByPlane<RgbPlanes, 3, Bits>::store(old, v);
    }
};

// The alpha plane of RGBA, decoded after the row's RGB: it only touches the top byte.
struct AlphaPlane : PlaneByPlane<AlphaPlane, 1, 8> {
    static uint32_t get(uint32_t pixel, unsigned /*plane*/) { return pixel >> 24; }
    static bool same(uint32_t a, uint32_t b) { return ((a ^ b) >> 24) == 0; }
    static uint32_t put(uint32_t old, const Values& v) { return (old & 0x00ffffff) | v[0] << 24; }
    static void repeat(std::span<uint32_t> run, uint32_t left) {
        for (uint32_t& pixel : run)
            pixel = (pixel & 0x00ffffff) | (left & 0xff000000);
    }
};

// GRAY: one plane, shown as opaque grey. The value is read back from the blue byte.
struct GrayPlane : PlaneByPlane<GrayPlane, 1, 8> {
    static uint32_t get(uint32_t pixel, unsigned /*plane*/) { return pixel & 0xff; }
    static bool same(uint32_t a, uint32_t b) { return ((a ^ b) & 0xff) == 0; }
    static uint32_t put(uint32_t /*old*/, const Values& v) { return 0xff000000u | v[0] * 0x010101u; }
    static void repeat(std::span<uint32_t> run, uint32_t left) { fillPixels(run, left); }
};

// ---------------------------------------------------------------------------------------------
// Decodes the planes of one group, row by row, into Pixmap rows.
template <class Planes> class PlaneGroupDecoder {
    static constexpr unsigned kBits = Planes::kBits;
    static constexpr unsigned kCount = Planes::kCount;
    static constexpr uint32_t kMask = CodeFamily<kBits>::kMask;
    // Residual slots per pixel: the planes of a pixel side by side, padded to 4 so that the
    // index is a scaled address rather than a multiplication.
    static constexpr size_t kStride = kCount == 1 ? 1 : 4;
    using Values = typename Planes::Values;
    using Left = typename Planes::Left;
    using Parameters = std::array<CodeTable, kCount>;

public:
    explicit PlaneGroupDecoder(size_t width) : width_(width), residuals_((width + 1) * kStride) {}

    QUIC_INLINE void decodeRow(BitReader& in, std::span<const uint32_t> above, std::span<uint32_t> row,
                               bool first) {
        // The context of a row's first pixel is the residual of the first pixel above it (0 on
        // the first row). Slot i + 1 holds pixel i's residual; slots of pixels that end up in a
        // run keep their value from an earlier row, and the encoder uses those stale values as
        // contexts too.
        for (unsigned p = 0; p < kCount; ++p)
            residual(p, 0) = first ? Residual{} : residual(p, 1);
        // Rows are cut where the wait mask changes; the encoder codes each piece on its own
        // ("segments" in quic.c), which matters for runs: they never cross a cut.
        // The reader, schedule and run state are copied to locals so that they can live in
        // registers: the row stores (uint32_t) could otherwise alias them.
        BitReader bits = in;
        LearnSchedule schedule = schedule_;
        RunDecoder runs = runs_;
        size_t pos = 0;
        while (pos < width_) {
            const bool ramping = schedule.ramping();
            const size_t end =
                ramping ? std::min<size_t>(width_, pos + schedule.pixelsLeftAtIndex()) : width_;
            if (first)
                decodeFirstRowSegment(bits, schedule, row, pos, end);
            else
                decodeSegment(bits, schedule, runs, above, row, pos, end);
            if (ramping)
                schedule.advance(static_cast<uint32_t>(end - pos));
            pos = end;
        }
        in = bits;
        schedule_ = schedule;
        runs_ = runs;
    }

private:
    QUIC_INLINE Residual& residual(unsigned plane, size_t slot) { return residuals_[slot * kStride + plane]; }

    // The code tables for the pixel after slot `slot`'s (its residuals are the contexts).
    QUIC_INLINE Parameters parametersAt(size_t slot) {
        Parameters k;
        for (unsigned p = 0; p < kCount; ++p)
            k[p] = models_[p].codesFor(static_cast<uint32_t>(residual(p, slot)));
        return k;
    }

    // The models learn from pixel i: its residuals after the contexts left of them.
    QUIC_INLINE void learnFrom(size_t i, unsigned threshold) {
        for (unsigned p = 0; p < kCount; ++p)
            models_[p].learn(static_cast<uint32_t>(residual(p, i)), static_cast<uint32_t>(residual(p, i + 1)),
                             threshold);
    }

    // Records pixel i's samples, lets the models learn from them if due, and sets `k` for
    // pixel i + 1.
    QUIC_INLINE void account(LearnSchedule& schedule, uint32_t waitMask, Parameters& k, size_t i,
                             const std::array<uint32_t, kCount>& samples) {
#pragma GCC unroll 4
        for (unsigned p = 0; p < kCount; ++p)
            residual(p, i + 1) = static_cast<Residual>(sample::residual(samples[p]));
        if (schedule.due(waitMask)) [[unlikely]]
            learnFrom(i, schedule.threshold());
#pragma GCC unroll 4
        for (unsigned p = 0; p < kCount; ++p)
            k[p] = models_[p].codesFor(sample::residual(samples[p]));
    }

    // Decodes pixel i from per-plane predictions into `values`.
    QUIC_INLINE void decodePixel(BitReader& in, LearnSchedule& schedule, uint32_t waitMask, Parameters& k,
                                 size_t i, Values& values, const Values& predicted) {
        std::array<uint32_t, kCount> s;
#pragma GCC unroll 4
        for (unsigned p = 0; p < kCount; ++p) {
            s[p] = readSample<kBits>(in, k[p]);
            values[p] = (sample::error(s[p]) + predicted[p]) & kMask;
        }
        account(schedule, waitMask, k, i, s);
    }

    // First row: no row above, no runs.
    QUIC_INLINE void decodeFirstRowSegment(BitReader& in, LearnSchedule& schedule, std::span<uint32_t> row,
                                           size_t begin, size_t end) {
        const uint32_t waitMask = schedule.waitMask();
        Values left{};
        if (begin > 0) {
            for (unsigned p = 0; p < kCount; ++p)
                left[p] = Planes::get(row[begin - 1], p);
        }
        // The first pixel is predicted as 0, which is what `left` holds then.
        Parameters k = parametersAt(begin);
        for (size_t i = begin; i < end; ++i) {
            decodePixel(in, schedule, waitMask, k, i, left, left);
            row[i] = Planes::put(row[i], left);
        }
    }

    // The common pixel, in a loop lean enough for the bit reader, the code tables and the left
    // neighbour to stay in registers (everything rarer would take registers from it, and
    // spills on this path cost more than the rare cases save). Decodes from pixel i (> 2) on
    // and stops, leaving i at it, at the first pixel that needs decodeSegment's general step:
    // one where the run test succeeds, one with a code longer than the short tables hold, or
    // one too close to the end of the payload for unchecked reads. Also stops after a pixel
    // that the models must learn from, with i past it, and then returns true: the caller
    // does the learning, out of the loop for the same reason.
    QUIC_INLINE bool decodeCommonPixels(BitReader& in, LearnSchedule& schedule, Parameters& k, Left& left,
                                        std::span<const uint32_t> above, std::span<uint32_t> row, size_t& i,
                                        size_t end) {
        constexpr unsigned kShort = CodeFamily<kBits>::kShortBits;
        while (i < end && in.canTopUp()) {
            // At least 32 bits after this, enough for three short codes.
            in.topUp();
            const uint32_t up = above[i];
            if (Planes::same(above[i - 1], up) && Planes::same(row[i - 1], row[i - 2]))
                return false;
            // Looked up on a copy of the reader, so that a long code leaves the pixel untouched.
            BitReader trial = in;
            std::array<uint32_t, kCount> s;
#pragma GCC unroll 4
            for (unsigned p = 0; p < kCount; ++p) {
                s[p] = k[p][trial.window() >> (64 - kShort)];
                if ((s[p] & sample::kLengthMask) == 0)
                    return false;
                trial.consume(s[p]);
            }
            in = trial;
            left = Planes::reconstruct(left, up, s);
            row[i] = Planes::store(row[i], left);
#pragma GCC unroll 4
            for (unsigned p = 0; p < kCount; ++p)
                residual(p, i + 1) = static_cast<Residual>(sample::residual(s[p]));
            ++i;
            if (!schedule.skip()) [[unlikely]]
                return true;
#pragma GCC unroll 4
            for (unsigned p = 0; p < kCount; ++p)
                k[p] = models_[p].codesFor(sample::residual(s[p]));
        }
        return false;
    }

    QUIC_INLINE void decodeSegment(BitReader& in, LearnSchedule& schedule, RunDecoder& runs,
                                   std::span<const uint32_t> above, std::span<uint32_t> row, size_t begin,
                                   size_t end) {
        const uint32_t waitMask = schedule.waitMask();
        Parameters k = parametersAt(begin);
        size_t i = begin;
        if (i == 0) { // column 0 is predicted from the pixel above alone
            Values up;
            Values value;
            for (unsigned p = 0; p < kCount; ++p)
                up[p] = Planes::get(above[0], p);
            decodePixel(in, schedule, waitMask, k, 0, value, up);
            row[0] = Planes::put(row[0], value);
            i = 1;
        }
        // Pixel i - 1 is the left neighbour; it is always decoded by now.
        Left left = Planes::left(row[i - 1]);
        // A run that ends before the segment does is followed by another run test at the same
        // pixel; a run of length 0 is how the encoder says "no run here after all", and then
        // the pixel must be coded normally. Runs never start before column 3, so 0 = none.
        size_t lastRunStart = 0;
        while (i < end) {
            if (i > 2) {
                if (decodeCommonPixels(in, schedule, k, left, above, row, i, end)) {
                    // The models learn from pixel i - 1. Done here, out of the pixel loop, so
                    // as not to take its registers.
                    schedule.due(waitMask);
                    learnFrom(i - 1, schedule.threshold());
                    k = parametersAt(i);
                }
                if (i == end)
                    break;
            }
            const uint32_t up = above[i];
            if (i > 2 && i != lastRunStart && Planes::same(above[i - 1], up) &&
                Planes::same(row[i - 1], row[i - 2])) [[unlikely]] {
                lastRunStart = i;
                const size_t n = runs.read(in, static_cast<uint32_t>(end - i));
                Planes::repeat(row.subspan(i, n), row[i - 1]);
                i += n; // `left` is unchanged: the run repeats it
                k = parametersAt(i);
                continue;
            }
            std::array<uint32_t, kCount> s;
#pragma GCC unroll 4
            for (unsigned p = 0; p < kCount; ++p)
                s[p] = readSample<kBits>(in, k[p]);
            left = Planes::reconstruct(left, up, s);
            row[i] = Planes::store(row[i], left);
            account(schedule, waitMask, k, i, s);
            ++i;
        }
    }

    size_t width_;
    std::array<PlaneModel<kBits>, kCount> models_{};
    std::vector<Residual> residuals_;
    LearnSchedule schedule_;
    RunDecoder runs_;
};

// Decodes all rows; each row is decoded by every group in turn (RGBA: RGB, then alpha).
template <class Tuple, size_t... I>
QUIC_INLINE void decodeRowOfGroups(Tuple& groups, std::index_sequence<I...>, BitReader& in,
                                   std::span<const uint32_t> above, std::span<uint32_t> row, bool first) {
    (std::get<I>(groups).decodeRow(in, above, row, first), ...);
}

template <class... Groups> QUIC_INLINE void decodeRows(BitReader& in, Pixmap& out) {
    const size_t width = static_cast<size_t>(out.width);
    std::tuple<PlaneGroupDecoder<Groups>...> groups{PlaneGroupDecoder<Groups>(width)...};
    for (int y = 0; y < out.height; ++y) {
        const std::span<const uint32_t> above = y > 0 ? out.row(y - 1) : std::span<const uint32_t>{};
        decodeRowOfGroups(groups, std::index_sequence_for<Groups...>{}, in, above, out.row(y), y == 0);
    }
    in.checkEnd();
}

// The decoder proper, compiled twice on x86-64: for the baseline instruction set, and with
// BMI2, whose shifts take their count from any register (SHLX, SHRX). The pixel loop is a
// chain of variable shifts (by each code's length); without BMI2 every one of them has to go
// through CL and costs two micro-operations, and BMI2 makes decoding about 8% faster. Every
// function below decodeRows is inlined (QUIC_INLINE), so that all of it is compiled for the
// caller's instruction set; only cold paths stay out of line. The choice is made once per
// process from CPUID (every x86-64 CPU since about 2013-2015 has BMI2).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QUIC_HAVE_BMI2_VARIANT 1
#else
#define QUIC_HAVE_BMI2_VARIANT 0
#endif

template <class... Groups> struct Decoder {
    static void portable(BitReader& in, Pixmap& out) { decodeRows<Groups...>(in, out); }
#if QUIC_HAVE_BMI2_VARIANT
    [[gnu::target("bmi,bmi2")]] static void bmi2(BitReader& in, Pixmap& out) {
        decodeRows<Groups...>(in, out);
    }
#endif

    static void run(BitReader& in, Pixmap& out, bool baselineOnly) {
#if QUIC_HAVE_BMI2_VARIANT
        static const bool hasBmi2 = __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("bmi");
        if (hasBmi2 && !baselineOnly) {
            bmi2(in, out);
            return;
        }
#else
        (void)baselineOnly;
#endif
        portable(in, out);
    }
};

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

Pixmap decode(std::span<const uint8_t> payload, uint32_t expectedWidth, uint32_t expectedHeight,
              bool baselineOnly) {
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
        Decoder<GrayPlane>::run(in, out, baselineOnly);
        break;
    case kRgb16:
        Decoder<RgbPlanes<5, 0xff000000u>>::run(in, out, baselineOnly);
        break;
    case kRgb24:
    case kRgb32: // same coding; RGB32's fourth byte is padding and is not coded
        Decoder<RgbPlanes<8, 0xff000000u>>::run(in, out, baselineOnly);
        break;
    case kRgba:
        Decoder<RgbPlanes<8, 0u>, AlphaPlane>::run(in, out, baselineOnly);
        break;
    }
    return out;
}

#undef QUIC_INLINE

} // namespace

Pixmap decodeQuic(std::span<const uint8_t> payload, uint32_t expectedWidth, uint32_t expectedHeight) {
    return decode(payload, expectedWidth, expectedHeight, false);
}

namespace detail {
Pixmap decodeQuicBaseline(std::span<const uint8_t> payload, uint32_t expectedWidth, uint32_t expectedHeight) {
    return decode(payload, expectedWidth, expectedHeight, true);
}
} // namespace detail

} // namespace saffron
