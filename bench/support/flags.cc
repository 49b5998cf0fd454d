#include "support/flags.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace snakepit::bench {

BenchFlags ParseFlags(int argc, char** argv, std::vector<char*>* rest) {
  BenchFlags flags;
  flags.ft_python = SNAKEPIT_BENCH_FT_PYTHON;
  const std::map<std::string, std::string*> values = {{"--python", &flags.python},
                                                      {"--python-path", &flags.python_path},
                                                      {"--ft-python", &flags.ft_python},
                                                      {"--echo-server", &flags.echo_server},
                                                      {"--embed", &flags.embed},
                                                      {"--script", &flags.script},
                                                      {"--out", &flags.out},
                                                      {"--only", &flags.only}};
  rest->push_back(argv[0]);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      flags.quick = true;
    } else if (auto it = values.find(arg); it != values.end()) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      *it->second = argv[++i];
    } else {
      rest->push_back(argv[i]);
    }
  }
  return flags;
}

}  // namespace snakepit::bench
