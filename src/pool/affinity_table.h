// AffinityTable: which worker last served each affinity key
// (CallOptions::affinity_key), so that the router can send the key's next
// call there. Bounded: past `max_keys` the least recently used key is
// forgotten (counted in evictions()); a forgotten key's next call goes to
// any worker and binds there, as a new key does.
//
// Threading: not thread-safe; the pool keeps it under PoolCore::mu.
#ifndef SNAKEPIT_SRC_POOL_AFFINITY_TABLE_H_
#define SNAKEPIT_SRC_POOL_AFFINITY_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

namespace snakepit::internal {

class AffinityTable {
 public:
  // REQUIRES: max_keys >= 1.
  explicit AffinityTable(int max_keys) : max_keys_(static_cast<std::size_t>(max_keys)) {}
  AffinityTable(const AffinityTable&) = delete;
  AffinityTable& operator=(const AffinityTable&) = delete;

  // The worker `key` is bound to, or -1; a hit makes the key the most
  // recently used.
  int Lookup(const std::string& key);
  // Binds `key` to `worker` (moving it if it was bound elsewhere), as the
  // most recently used key; evicts the least recently used key if full.
  void Bind(const std::string& key, int worker);
  // Forgets `key` (re-homes it); no-op if unknown.
  void Forget(const std::string& key);
  // Forgets every key bound to `worker` (it left the pool).
  void DropWorker(int worker);

  int KeysOf(int worker) const;
  int size() const { return static_cast<int>(index_.size()); }
  std::uint64_t evictions() const { return evictions_; }

 private:
  using Entry = std::pair<std::string, int>;  // key, worker
  void Erase(std::list<Entry>::iterator it);

  const std::size_t max_keys_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::map<int, int> per_worker_;  // worker -> keys bound to it
  std::uint64_t evictions_ = 0;
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_POOL_AFFINITY_TABLE_H_
