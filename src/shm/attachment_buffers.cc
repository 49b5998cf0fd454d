// ReserveAttachment and CopyAttachment (snakepit/call.h): the public face
// of fresh_buffer.h, which the data plane uses for what it receives.
#include "shm/fresh_buffer.h"
#include "snakepit/call.h"

namespace snakepit {

std::string ReserveAttachment(std::size_t size) { return internal::FreshReserve(size); }

std::string CopyAttachment(std::string_view bytes) { return internal::FreshCopy(bytes.data(), bytes.size()); }

}  // namespace snakepit
