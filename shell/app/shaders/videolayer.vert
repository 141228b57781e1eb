#version 440
// A video layer quad: positions in item coordinates, texture coordinates into the picture.
layout(location = 0) in vec4 position;
layout(location = 1) in vec2 pictureCoord;
layout(location = 0) out vec2 coord;

layout(std140, binding = 0) uniform buf {
    mat4 qt_Matrix;
    mat4 yuvToRgb;
    float qt_Opacity;
    int chroma;
};

void main() {
    coord = pictureCoord;
    gl_Position = qt_Matrix * position;
}
