#include "config/json_text.h"

#include <cstddef>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/config_errors.h"
#include "config/config_rules.h"

namespace snakepit::internal {
namespace {

using nlohmann::json;

// Thrown by the parser callback to abandon a too-deep document; caught in
// ParseJsonText, never beyond.
struct TooDeep {};

// Follows the parser's events to know the key path of each value, so that a
// repeated key can be reported by path. Bounds the nesting depth.
class KeyTracker {
 public:
  // Parser callback: always keeps the value. Throws TooDeep when an array or
  // object would nest deeper than kMaxJsonDepth.
  bool OnEvent(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (frames_.size() >= static_cast<std::size_t>(kMaxJsonDepth)) throw TooDeep{};
        frames_.push_back(Frame{event == json::parse_event_t::object_start, {}, {}, 0});
        break;
      case json::parse_event_t::key: {
        Frame& frame = frames_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second && duplicate_.ok()) {
          duplicate_ = InvalidAt(ObjectPath(), absl::StrCat("duplicate key ", Quote(frame.key)));
        }
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        ElementDone();
        break;
      case json::parse_event_t::value:
        ElementDone();
        break;
    }
    return true;
  }

  // OK, or the error naming the first repeated key.
  const absl::Status& duplicate() const { return duplicate_; }

 private:
  struct Frame {
    bool is_object;
    std::set<std::string> keys;  // keys seen so far (objects)
    std::string key;             // key of the current member (objects)
    std::size_t index;           // index of the current element (arrays)
  };

  // A value (scalar or container) finished: the enclosing array moves on.
  void ElementDone() {
    if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
  }

  // Key path of the innermost (object) frame.
  std::string ObjectPath() const {
    std::string path;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      const Frame& frame = frames_[i];
      path = frame.is_object ? JoinPath(path, frame.key) : IndexPath(path, frame.index);
    }
    return path;
  }

  std::vector<Frame> frames_;
  absl::Status duplicate_;
};

// "[json.exception.parse_error.101] parse error at ..." -> "parse error at ...".
std::string_view WithoutExceptionId(std::string_view what) {
  if (what.starts_with("[json.exception.")) {
    if (std::size_t end = what.find("] "); end != std::string_view::npos) {
      return what.substr(end + 2);
    }
  }
  return what;
}

}  // namespace

absl::StatusOr<json> ParseJsonText(std::string_view text) {
  KeyTracker tracker;
  json::parser_callback_t callback = [&tracker](int /*depth*/, json::parse_event_t event, json& parsed) {
    return tracker.OnEvent(event, parsed);
  };
  try {
    json document = json::parse(text, callback, /*allow_exceptions=*/true);
    if (!tracker.duplicate().ok()) return tracker.duplicate();
    return document;
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at byte ", e.byte, ": ", SanitizeForMessage(WithoutExceptionId(e.what()))));
  } catch (const json::exception& e) {  // e.g. out_of_range: a number too large
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", SanitizeForMessage(WithoutExceptionId(e.what()))));
  } catch (const TooDeep&) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: nested deeper than ", kMaxJsonDepth, " levels"));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while parsing JSON");
  }
}

}  // namespace snakepit::internal
