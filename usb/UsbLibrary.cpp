// The usb library's anchor translation unit: the target always has at least one source.
namespace saffron::usb_detail {
int libraryAnchor = 0;
}
