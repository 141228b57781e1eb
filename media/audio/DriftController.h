#pragma once

namespace saffron {

// Keeps a playback buffer near its target fill when the server's clock and the sound card's clock
// disagree (they always do a little: a SPICE server paces audio by its own clock, the sink by the
// card's crystal, and 0.1-0.5 % apart is normal). It turns the measured fill into a consumption
// ratio: > 1 means "eat the buffer faster than nominal", < 1 slower. The caller hands the ratio to
// a resampler (PipeWire's adaptive resampler for AudioPlayback).
//
// A PI controller on a smoothed fill: the proportional part reacts to a fill away from target,
// the integral part learns the steady clock offset so that, once it has, the fill sits on target
// with no standing error. Pure arithmetic, no clock of its own: time advances by what update()
// is told, so tests can simulate hours of drift in microseconds.
class DriftController {
public:
    struct Params {
        double targetSeconds = 0.060;
        // Exponential smoothing of the fill: the process callback sees a sawtooth (the writer
        // delivers chunks, the sink drains quanta), the controller should see the trend.
        double smoothingSeconds = 0.5;
        double kp = 0.3; // ratio change per second of fill error beyond the dead band
        // The proportional part ignores errors this small: the fill always wobbles by a write
        // chunk and a quantum, and chasing that wobble would only modulate the pitch.
        double deadBandSeconds = 0.010;
        double ki = 0.03;            // ratio change per second of fill error per second
        double maxCorrection = 0.01; // |ratio - 1| never exceeds 1 %: inaudible pitch change
    };

    DriftController() = default;
    explicit DriftController(Params params) : m_params(params) {}

    // One observation: `fillSeconds` of audio queued, `elapsedSeconds` since the last call.
    // Returns the ratio to apply from now on.
    double update(double fillSeconds, double elapsedSeconds);
    void reset();
    // Forgets the smoothed fill (the next update() starts from its observation) but keeps the
    // learnt clock offset: for a restart after an underrun or a trim.
    void restartSmoothing() { m_primed = false; }
    // A new target (SPICE PLAYBACK_LATENCY): the controller moves the fill there gradually.
    void setTargetSeconds(double seconds) { m_params.targetSeconds = seconds; }

    double ratio() const { return m_ratio; }
    double smoothedFillSeconds() const { return m_smoothed; }
    const Params& params() const { return m_params; }

private:
    Params m_params;
    bool m_primed = false;
    double m_smoothed = 0;
    double m_integral = 0;
    double m_ratio = 1.0;
};

} // namespace saffron
