// The baseline of the compile benchmark: yaml-cpp alone loading files.
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_yaml_load FILE...\n");
    return 2;
  }
  std::size_t entries = 0;
  try {
    for (int i = 1; i < argc; ++i) {
      YAML::Node root = YAML::LoadFile(argv[i]);
      entries += root.size();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_yaml_load: %s\n", e.what());
    return 1;
  }
  std::printf("%zu\n", entries);
  return 0;
}
