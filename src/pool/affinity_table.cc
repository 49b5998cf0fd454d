#include "pool/affinity_table.h"

namespace snakepit::internal {

int AffinityTable::Lookup(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return -1;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void AffinityTable::Bind(const std::string& key, int worker) {
  if (auto it = index_.find(key); it != index_.end()) {
    if (it->second->second != worker) {
      if (--per_worker_[it->second->second] == 0) per_worker_.erase(it->second->second);
      it->second->second = worker;
      ++per_worker_[worker];
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  if (index_.size() >= max_keys_) {
    Erase(std::prev(lru_.end()));
    ++evictions_;
  }
  lru_.emplace_front(key, worker);
  index_.emplace(key, lru_.begin());
  ++per_worker_[worker];
}

void AffinityTable::Forget(const std::string& key) {
  if (auto it = index_.find(key); it != index_.end()) Erase(it->second);
}

void AffinityTable::DropWorker(int worker) {
  if (!per_worker_.contains(worker)) return;
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->second == worker) Erase(it);
    it = next;
  }
}

int AffinityTable::KeysOf(int worker) const {
  auto it = per_worker_.find(worker);
  return it == per_worker_.end() ? 0 : it->second;
}

void AffinityTable::Erase(std::list<Entry>::iterator it) {
  if (--per_worker_[it->second] == 0) per_worker_.erase(it->second);
  index_.erase(it->first);
  lru_.erase(it);
}

}  // namespace snakepit::internal
