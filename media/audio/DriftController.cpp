#include "DriftController.h"

#include <algorithm>
#include <cmath>

namespace saffron {

double DriftController::update(double fillSeconds, double elapsedSeconds) {
    if (!(elapsedSeconds > 0) || !std::isfinite(fillSeconds) || !std::isfinite(elapsedSeconds)) {
        return m_ratio;
    }
    if (!m_primed) {
        m_smoothed = fillSeconds;
        m_primed = true;
    } else {
        const double alpha = 1.0 - std::exp(-elapsedSeconds / m_params.smoothingSeconds);
        m_smoothed += alpha * (fillSeconds - m_smoothed);
    }
    const double error = m_smoothed - m_params.targetSeconds;
    const double outside = std::abs(error) > m_params.deadBandSeconds
                               ? error - std::copysign(m_params.deadBandSeconds, error)
                               : 0.0;
    // Anti-windup by conditional integration: while the output is pinned at the limit by an error
    // of the same sign (a burst after a stall, drained at the most the limit allows), the integral
    // stops learning. Otherwise it would soak up the whole burst and, once the fill is back on
    // target, keep the ratio pinned until it had unwound: an undershoot of tens of milliseconds,
    // enough to run the queue dry. It also never asks for more than the limit on its own.
    const double integralLimit = m_params.ki > 0 ? m_params.maxCorrection / m_params.ki : 0;
    const double integral = std::clamp(m_integral + error * elapsedSeconds, -integralLimit, integralLimit);
    const double wanted = m_params.kp * outside + m_params.ki * integral;
    const bool pinned = std::abs(wanted) > m_params.maxCorrection && (wanted > 0) == (error > 0);
    if (!pinned) {
        m_integral = integral;
    }
    const double correction = m_params.kp * outside + m_params.ki * m_integral;
    m_ratio = 1.0 + std::clamp(correction, -m_params.maxCorrection, m_params.maxCorrection);
    return m_ratio;
}

void DriftController::reset() {
    m_primed = false;
    m_smoothed = 0;
    m_integral = 0;
    m_ratio = 1.0;
}

} // namespace saffron
