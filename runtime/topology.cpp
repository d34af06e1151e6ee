// Free ports on loopback addresses for the processes of a step.
#include "runtime/topology.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pipec::runtime {

namespace {

// Binds a TCP socket to addr:port; returns the socket (to be closed) or -1.
int bindTo(const std::string& addr, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

PortPicker::~PortPicker() = default;

llvm::Expected<std::uint16_t> LoopbackPortPicker::pick(
    llvm::ArrayRef<std::string> addresses) {
  assert(!addresses.empty());
  for (int attempt = 0; attempt < 64; ++attempt) {
    int first = bindTo(addresses[0], 0);
    if (first < 0) break;
    sockaddr_in sa;
    socklen_t len = sizeof sa;
    ::getsockname(first, reinterpret_cast<sockaddr*>(&sa), &len);
    std::uint16_t port = ntohs(sa.sin_port);
    std::vector<int> held{first};
    bool ok = !given_.count(port);
    for (std::size_t i = 1; ok && i < addresses.size(); ++i) {
      int fd = bindTo(addresses[i], port);
      if (fd < 0)
        ok = false;
      else
        held.push_back(fd);
    }
    for (int fd : held) ::close(fd);
    if (ok) {
      given_.insert(port);
      return port;
    }
  }
  return llvm::createStringError(
      std::error_code(EADDRINUSE, std::generic_category()),
      "no port is free on %s", addresses[0].c_str());
}

std::vector<ProcessSlot> processSlots(ir::JobType jt, const ir::Resources& r) {
  std::vector<ProcessSlot> slots = lowering::processSlots(jt, r);
  lowering::assignLoopbackAddresses(jt, r, slots);
  return slots;
}

llvm::Error assignTopologyEnv(ir::JobType jt, const ir::Resources& r,
                              std::vector<ProcessSlot>& slots,
                              PortPicker& ports) {
  std::vector<std::uint16_t> picked;
  for (const lowering::PortGroup& g : lowering::portGroups(jt, r, slots)) {
    std::vector<std::string> addresses;
    for (std::size_t i : g.slots) addresses.push_back(slots[i].address);
    auto port = ports.pick(addresses);
    if (!port) return port.takeError();
    picked.push_back(*port);
  }
  lowering::bindEndpoints(jt, r, slots, picked);
  return llvm::Error::success();
}

}  // namespace pipec::runtime
