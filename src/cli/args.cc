#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/cli.h"

namespace snakepit::cli {

std::optional<std::string> Args::value(const std::string& flag) const {
  auto it = flags.find(flag);
  if (it == flags.end()) return std::nullopt;
  return it->second;
}

std::optional<std::chrono::milliseconds> ParseSeconds(const std::string& flag, const std::string& text,
                                                      std::string* error) {
  double seconds = 0;
  // !(seconds > 0) also refuses NaN, which compares false with everything.
  if (!absl::SimpleAtod(text, &seconds) || !std::isfinite(seconds) || !(seconds > 0) || seconds > kMaxSeconds) {
    *error = absl::StrCat(flag, " must be a number of seconds greater than 0 and at most ",
                          static_cast<long long>(kMaxSeconds), " (a year), got '", text, "'");
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

Args Parse(const std::vector<std::string>& argv, const std::vector<std::string>& switches,
           const std::vector<std::string>& with_value) {
  Args args;
  auto known = [](const std::vector<std::string>& list, const std::string& flag) {
    return std::find(list.begin(), list.end(), flag) != list.end();
  };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      args.positional.insert(args.positional.end(), argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      args.positional.push_back(a);
      continue;
    }
    std::string flag = a == "-h" ? "--help" : a;
    std::optional<std::string> inline_value;
    if (const std::size_t eq = flag.find('='); eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag.resize(eq);
    }
    if (known(switches, flag) && !inline_value) {
      args.flags[flag] = "";
    } else if (known(with_value, flag)) {
      if (inline_value) {
        args.flags[flag] = *inline_value;
      } else if (i + 1 < argv.size()) {
        args.flags[flag] = argv[++i];
      } else {
        args.error = flag + " needs a value";
        return args;
      }
    } else {
      args.error = "unknown option '" + a + "'";
      return args;
    }
  }
  return args;
}

int UsageError(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "snakepit %s: %s\n(see 'snakepit %s --help')\n", command.c_str(), message.c_str(),
               command.c_str());
  return kUsage;
}

}  // namespace snakepit::cli
