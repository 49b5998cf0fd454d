// SharedMemoryAvailable (snakepit/config.h): the region a worker would get,
// made and dropped.
#include "shm/shm_channel.h"
#include "shm/shm_region.h"
#include "snakepit/config.h"
#include "worker/worker_spec.h"

namespace snakepit {

absl::Status SharedMemoryAvailable() {
  const std::size_t ring_bytes = internal::WorkerSpec{}.shm_ring_bytes;
  return internal::ShmRegion::Create("snakepit-probe", internal::ShmChannel::RegionSize(ring_bytes)).status();
}

}  // namespace snakepit
