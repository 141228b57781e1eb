#version 440
// YCbCr -> RGB for a decoded picture uploaded as planes (no CPU colour conversion). `chroma`
// says where Cb and Cr live: 0 in two planes of their own (I420, Y42B, Y444), 1 interleaved in
// one two-channel plane (NV12), 2 nowhere (grey JPEG). `yuvToRgb` holds the stream's matrix and
// range, offsets included.
layout(location = 0) in vec2 coord;
layout(location = 0) out vec4 fragColor;

layout(std140, binding = 0) uniform buf {
    mat4 qt_Matrix;
    mat4 yuvToRgb;
    float qt_Opacity;
    int chroma;
};

layout(binding = 1) uniform sampler2D lumaPlane;
layout(binding = 2) uniform sampler2D chromaPlaneA;
layout(binding = 3) uniform sampler2D chromaPlaneB;

void main() {
    float y = texture(lumaPlane, coord).r;
    vec2 cbcr = vec2(128.0 / 255.0);
    if (chroma == 0)
        cbcr = vec2(texture(chromaPlaneA, coord).r, texture(chromaPlaneB, coord).r);
    else if (chroma == 1)
        cbcr = texture(chromaPlaneA, coord).rg;
    vec4 rgb = yuvToRgb * vec4(y, cbcr, 1.0);
    fragColor = vec4(clamp(rgb.rgb, 0.0, 1.0), 1.0) * qt_Opacity;
}
