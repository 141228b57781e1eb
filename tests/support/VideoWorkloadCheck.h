#pragma once

#include <QImage>
#include <QRect>
#include <QStringList>
#include <optional>

namespace saffron::test {

// Checks a picture of the test server's `video-moving` workload: which source frame it shows
// (the frame code the workload draws along the top of the video area) and how close it is to
// that frame (PSNR), so presented video can be compared with its source whatever the latency.

// The expected primary surface after `frame` frames of the workload `serverArgs` describe
// (--workload, --size, --video-rect ...), as the test server itself computes it ($SAFFRON_TEST_SERVER).
QImage expectedWorkloadFrame(const QStringList& serverArgs, int frame);

// The workload's frame code: 16 cells along the top of the video area, most significant bit
// first, white = 1; each read by the mean luma of its centre.
std::optional<int> workloadFrameCode(const QImage& image, const QRect& area);

// Peak signal-to-noise ratio of a against b over `area` (RGB), 99 dB for identical pictures.
double psnr(const QImage& a, const QImage& b, const QRect& area);

// Pixels outside `hole` that differ between a and b.
int differingOutside(const QImage& a, const QImage& b, const QRect& hole);

} // namespace saffron::test
