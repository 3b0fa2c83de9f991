#include "dns/message.h"

#include <cctype>

namespace chaosplus::dns {
namespace {

constexpr std::size_t kHeader = 12;
constexpr std::size_t kMaxName = 255;  // RFC 1035 2.3.4, in wire form
constexpr int kMaxPointers = 16;       // a chain longer than this is a loop or an attack

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> m) : m_(m) {}
  bool u16(std::size_t at, std::uint16_t& out) const {
    if (at + 2 > m_.size()) return false;
    out = static_cast<std::uint16_t>(m_[at] << 8 | m_[at + 1]);
    return true;
  }
  // Reads the name at `at`; `next` is where the record goes on after it (after the first pointer).
  bool name(std::size_t at, std::string& text, std::string& wire, std::size_t& next) const {
    text.clear();
    wire.clear();
    bool jumped = false;
    int pointers = 0;
    for (;;) {
      if (at >= m_.size()) return false;
      const std::uint8_t len = m_[at];
      if ((len & 0xC0) == 0xC0) {
        if (at + 1 >= m_.size() || ++pointers > kMaxPointers) return false;
        const std::size_t to = static_cast<std::size_t>((len & 0x3F) << 8 | m_[at + 1]);
        if (to >= at) return false;  // only backwards: no loops
        if (!jumped) next = at + 2;
        jumped = true;
        at = to;
        continue;
      }
      if ((len & 0xC0) != 0) return false;  // the 0x40 and 0x80 label types are obsolete
      if (wire.size() + 1 + len > kMaxName) return false;
      if (at + 1 + len > m_.size()) return false;
      wire.push_back(static_cast<char>(len));
      if (len == 0) {
        if (!jumped) next = at + 1;
        return true;
      }
      if (!text.empty()) text.push_back('.');
      for (std::size_t i = 0; i < len; ++i) {
        const char c = static_cast<char>(m_[at + 1 + i]);
        wire.push_back(c);
        text.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      }
      at += 1 + len;
    }
  }

 private:
  std::span<const std::uint8_t> m_;
};

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}

void put_header(std::vector<std::uint8_t>& out, std::uint16_t id, std::uint16_t opcode, bool rd, Rcode rcode,
                std::uint16_t qd, std::uint16_t an) {
  put16(out, id);
  // QR=1, the opcode, AA=1 (it is the authority on what it answers for), RD copied, RA=1.
  const auto flags = static_cast<std::uint16_t>(0x8000 | (opcode & 0xF) << 11 | 0x0400 | (rd ? 0x0100 : 0) | 0x0080 |
                                                static_cast<std::uint16_t>(rcode));
  put16(out, flags);
  put16(out, qd);
  put16(out, an);
  put16(out, 0);
  put16(out, 0);
}

}  // namespace

Parsed parse_query(std::span<const std::uint8_t> message) {
  Parsed parsed;
  Reader r(message);
  std::uint16_t id = 0, flags = 0, qd = 0;
  if (!r.u16(0, id) || !r.u16(2, flags) || !r.u16(4, qd) || message.size() < kHeader) return parsed;
  if (flags & 0x8000) return parsed;  // a response: never answer one (no reflection loops)
  parsed.opcode = static_cast<std::uint16_t>(flags >> 11 & 0xF);
  parsed.formerr_id = id;
  if (parsed.opcode != 0) return parsed;  // the caller answers NOTIMP
  if (qd != 1) return parsed;             // RFC 9619: exactly one question
  Query q;
  q.id = id;
  q.opcode = parsed.opcode;
  q.recursion_desired = (flags & 0x0100) != 0;
  std::size_t next = 0;
  if (!r.name(kHeader, q.name, q.wire_name, next)) return parsed;
  if (!r.u16(next, q.type) || !r.u16(next + 2, q.klass)) return parsed;
  // The answer, authority and additional sections (an EDNS0 OPT) are not needed: left unread.
  parsed.query = std::move(q);
  parsed.formerr_id.reset();
  return parsed;
}

std::vector<std::uint8_t> build_response(const Query& query, Rcode rcode,
                                         const std::vector<std::vector<std::uint8_t>>& addresses, std::uint32_t ttl) {
  const std::size_t size = query.type == kTypeAAAA ? 16 : 4;
  std::vector<const std::vector<std::uint8_t>*> records;
  if (rcode == Rcode::noerror && query.klass == kClassIN && (query.type == kTypeA || query.type == kTypeAAAA)) {
    for (const auto& a : addresses) {
      if (a.size() == size && records.size() < 16) records.push_back(&a);  // 16 x 16 bytes fits in 512
    }
  }
  std::vector<std::uint8_t> out;
  put_header(out, query.id, query.opcode, query.recursion_desired, rcode, 1,
             static_cast<std::uint16_t>(records.size()));
  out.insert(out.end(), query.wire_name.begin(), query.wire_name.end());
  put16(out, query.type);
  put16(out, query.klass);
  for (const auto* a : records) {
    put16(out, 0xC000 | kHeader);  // the owner name: the question's
    put16(out, query.type);
    put16(out, kClassIN);
    put32(out, ttl);
    put16(out, static_cast<std::uint16_t>(a->size()));
    out.insert(out.end(), a->begin(), a->end());
  }
  return out;
}

std::vector<std::uint8_t> build_header_response(std::uint16_t id, std::uint16_t opcode, Rcode rcode) {
  std::vector<std::uint8_t> out;
  put_header(out, id, opcode, false, rcode, 0, 0);
  return out;
}

}  // namespace chaosplus::dns
