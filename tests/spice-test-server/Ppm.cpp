#include "Ppm.h"

#include <cstdio>
#include <memory>
#include <vector>

namespace saffron::testserver {

bool writePpm(const std::string& path, const Pixmap& image) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!file)
        return false;
    std::fprintf(file.get(), "P6\n%d %d\n255\n", image.width, image.height);
    std::vector<unsigned char> row(static_cast<size_t>(image.width) * 3);
    for (int y = 0; y < image.height; ++y) {
        const auto pixels = image.row(y);
        for (size_t x = 0; x < pixels.size(); ++x) {
            row[x * 3] = static_cast<unsigned char>(pixels[x] >> 16);
            row[x * 3 + 1] = static_cast<unsigned char>(pixels[x] >> 8);
            row[x * 3 + 2] = static_cast<unsigned char>(pixels[x]);
        }
        if (std::fwrite(row.data(), 1, row.size(), file.get()) != row.size())
            return false;
    }
    return std::fflush(file.get()) == 0;
}

} // namespace saffron::testserver
