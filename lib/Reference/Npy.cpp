//===- Npy.cpp - NumPy .npy reading and writing ---------------------------===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The format (numpy/lib/format.py): the magic "\x93NUMPY", a major and minor
// version byte, a little-endian header length (2 bytes in 1.0, 4 in 2.0/3.0),
// then a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': ...}
// padded with spaces and a newline, then the raw C-order data.
//
// Values are encoded and decoded byte by byte in little-endian order, so the
// code is independent of the host's endianness.
//
//===----------------------------------------------------------------------===//

#include "qlow/Reference/Npy.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace qlow::ref;

namespace {

/// The dtypes qlow reads and writes.
struct DtypeInfo {
  const char *name; // normalized descriptor
  unsigned size;    // bytes per element
  bool isFloat;
  bool isSigned;
  bool isBool;
};

constexpr DtypeInfo kDtypes[] = {
    {"<f4", 4, true, true, false},  {"<f8", 8, true, true, false},
    {"|i1", 1, false, true, false}, {"|u1", 1, false, false, false},
    {"<i2", 2, false, true, false}, {"<u2", 2, false, false, false},
    {"<i4", 4, false, true, false}, {"<u4", 4, false, false, false},
    {"<i8", 8, false, true, false}, {"|b1", 1, false, false, true},
};

/// Finds a dtype by descriptor. One-byte types may be spelled with any byte
/// order character ('|', '<', '>', '='), as they have none.
const DtypeInfo *findDtype(const std::string &descr) {
  std::string d = descr;
  if (d.size() == 3 && d[2] == '1' &&
      (d[0] == '<' || d[0] == '>' || d[0] == '='))
    d[0] = '|';
  for (const DtypeInfo &info : kDtypes)
    if (d == info.name)
      return &info;
  return nullptr;
}

// NumPy refuses headers above 10000 bytes by default; 1 MiB leaves room for
// absurd but valid files while bounding what a corrupt length can claim.
constexpr uint64_t kMaxHeaderLen = 1u << 20;
constexpr size_t kMaxRank = 64; // NumPy's NPY_MAXDIMS

//===----------------------------------------------------------------------===//
// Header parsing
//===----------------------------------------------------------------------===//

/// A recursive-descent parser for the header dict. It accepts exactly what
/// NumPy writes (and the obvious spacing variants), nothing else.
class HeaderParser {
public:
  explicit HeaderParser(const std::string &text) : text(text) {}

  Status parse(std::string &descr, bool &fortran, std::vector<int64_t> &shape) {
    bool haveDescr = false, haveFortran = false, haveShape = false;
    skipSpace();
    if (!consume('{'))
      return fail("expected '{' at the start of the header dict");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      QLOW_REF_RETURN_IF_ERROR(parseString(key));
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key '" + key + "'");
      skipSpace();
      if (key == "descr") {
        if (peek() == '[')
          return fail("structured dtypes are not supported");
        QLOW_REF_RETURN_IF_ERROR(parseString(descr));
        haveDescr = true;
      } else if (key == "fortran_order") {
        QLOW_REF_RETURN_IF_ERROR(parseBool(fortran));
        haveFortran = true;
      } else if (key == "shape") {
        QLOW_REF_RETURN_IF_ERROR(parseShape(shape));
        haveShape = true;
      } else {
        return fail("unexpected key '" + key + "'");
      }
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return fail("expected ',' or '}' after the value of '" + key + "'");
    }
    skipSpace();
    if (pos != text.size())
      return fail("unexpected characters after the header dict");
    if (!haveDescr || !haveFortran || !haveShape)
      return fail("the header dict must have 'descr', 'fortran_order' and "
                  "'shape'");
    return Status::success();
  }

private:
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }
  void skipSpace() {
    while (pos < text.size() &&
           std::isspace(static_cast<unsigned char>(text[pos])))
      ++pos;
  }
  Status fail(const std::string &what) const {
    return Status::error("malformed .npy header: " + what + " (at offset " +
                         std::to_string(pos) + ")");
  }

  Status parseString(std::string &out) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return fail("expected a quoted string");
    ++pos;
    size_t end = text.find(quote, pos);
    if (end == std::string::npos)
      return fail("unterminated string");
    out = text.substr(pos, end - pos);
    pos = end + 1;
    return Status::success();
  }

  Status parseBool(bool &out) {
    if (text.compare(pos, 4, "True") == 0) {
      out = true;
      pos += 4;
      return Status::success();
    }
    if (text.compare(pos, 5, "False") == 0) {
      out = false;
      pos += 5;
      return Status::success();
    }
    return fail("expected True or False");
  }

  Status parseShape(std::vector<int64_t> &shape) {
    shape.clear();
    if (!consume('('))
      return fail("expected '(' to start the shape tuple");
    while (true) {
      skipSpace();
      if (consume(')'))
        return Status::success();
      if (!std::isdigit(static_cast<unsigned char>(peek())))
        return fail("expected a non-negative integer in the shape");
      int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        int digit = text[pos++] - '0';
        if (v > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return fail("a shape dimension overflows int64");
        v = v * 10 + digit;
      }
      consume('L'); // Python 2 long suffix, written by old NumPy versions.
      if (shape.size() == kMaxRank)
        return fail("more than " + std::to_string(kMaxRank) + " dimensions");
      shape.push_back(v);
      skipSpace();
      if (consume(','))
        continue;
      if (consume(')'))
        return Status::success();
      return fail("expected ',' or ')' in the shape tuple");
    }
  }

  const std::string &text;
  size_t pos = 0;
};

uint64_t loadLE(const unsigned char *p, unsigned size) {
  uint64_t v = 0;
  for (unsigned b = 0; b < size; ++b)
    v |= static_cast<uint64_t>(p[b]) << (8 * b);
  return v;
}

void storeLE(std::string &out, uint64_t v, unsigned size) {
  for (unsigned b = 0; b < size; ++b)
    out.push_back(static_cast<char>((v >> (8 * b)) & 0xFF));
}

/// Sign-extends the low `bits` bits of v.
int64_t signExtend(uint64_t v, unsigned bits) {
  if (bits == 64)
    return static_cast<int64_t>(v);
  uint64_t sign = uint64_t(1) << (bits - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

} // namespace

bool NpyArray::isFloat() const { return dtype == "<f4" || dtype == "<f8"; }

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

Expected<NpyArray> qlow::ref::parseNpy(const std::string &bytes) {
  const auto *data = reinterpret_cast<const unsigned char *>(bytes.data());
  const size_t size = bytes.size();
  static const char kMagic[] = "\x93NUMPY";
  if (size < 8 || std::memcmp(data, kMagic, 6) != 0)
    return Status::error("not a .npy file: bad magic (expected \\x93NUMPY)");
  const unsigned major = data[6];
  if (major < 1 || major > 3)
    return Status::error("unsupported .npy format version " +
                         std::to_string(major) + "." + std::to_string(data[7]));
  const unsigned lenBytes = major == 1 ? 2 : 4;
  if (size < 8 + lenBytes)
    return Status::error("truncated .npy header: the header length is cut off");
  const uint64_t headerLen = loadLE(data + 8, lenBytes);
  const uint64_t headerStart = 8 + lenBytes;
  if (headerLen > kMaxHeaderLen)
    return Status::error("malformed .npy header: length " +
                         std::to_string(headerLen) + " exceeds " +
                         std::to_string(kMaxHeaderLen) + " bytes");
  if (headerStart + headerLen > size)
    return Status::error(
        "truncated .npy header: it claims " + std::to_string(headerLen) +
        " bytes but the file has " + std::to_string(size - headerStart) +
        " after the magic");

  NpyArray array;
  std::string descr;
  bool fortran = false;
  const std::string header = bytes.substr(headerStart, headerLen);
  QLOW_REF_RETURN_IF_ERROR(
      HeaderParser(header).parse(descr, fortran, array.shape));
  if (fortran)
    return Status::error("Fortran-order .npy arrays are not supported; save a "
                         "C-order array (np.ascontiguousarray)");
  const DtypeInfo *info = findDtype(descr);
  if (!info) {
    if (!descr.empty() && descr[0] == '>')
      return Status::error("big-endian dtype '" + descr +
                           "' is not supported; save with a little-endian "
                           "dtype (arr.astype('" +
                           "<" + descr.substr(1) + "'))");
    return Status::error("unsupported .npy dtype '" + descr +
                         "' (expected one of <f4 <f8 |i1 |u1 <i2 <u2 <i4 <u4 "
                         "<i8 |b1)");
  }
  array.dtype = info->name;

  // Check the size before allocating anything from the header's numbers.
  Expected<int64_t> count = checkedNumElements(array.shape);
  if (!count)
    return count.status.withContext("malformed .npy shape");
  const uint64_t available = size - headerStart - headerLen;
  const uint64_t n = static_cast<uint64_t>(*count);
  if (n > available / info->size)
    return Status::error(
        "truncated .npy data: shape " + shapeToString(array.shape) + " of " +
        array.dtype + " needs " +
        (n > std::numeric_limits<uint64_t>::max() / info->size
             ? std::string("more than 2^64")
             : std::to_string(n * info->size)) +
        " bytes but the file has " + std::to_string(available));
  if (n * info->size != available)
    return Status::error(
        "malformed .npy file: " + std::to_string(available - n * info->size) +
        " unexpected bytes after the data");

  const unsigned char *p = data + headerStart + headerLen;
  if (info->isFloat) {
    array.f.resize(n);
    for (uint64_t e = 0; e < n; ++e, p += info->size) {
      uint64_t raw = loadLE(p, info->size);
      if (info->size == 4) {
        uint32_t r32 = static_cast<uint32_t>(raw);
        std::memcpy(&array.f[e], &r32, 4);
      } else {
        double d;
        std::memcpy(&d, &raw, 8);
        array.f[e] = static_cast<float>(d);
      }
    }
  } else {
    array.i.resize(n);
    for (uint64_t e = 0; e < n; ++e, p += info->size) {
      uint64_t raw = loadLE(p, info->size);
      if (info->isBool)
        array.i[e] = raw != 0;
      else if (info->isSigned)
        array.i[e] = signExtend(raw, 8 * info->size);
      else
        array.i[e] = static_cast<int64_t>(raw);
    }
  }
  return array;
}

Expected<NpyArray> qlow::ref::readNpy(const std::string &path) {
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    return Status::error("cannot open '" + path + "' for reading");
  std::string bytes;
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0)
    bytes.append(buffer, got);
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed)
    return Status::error("error reading '" + path + "'");
  Expected<NpyArray> array = parseNpy(bytes);
  if (!array)
    return array.status.withContext(path);
  return array;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Expected<std::string> qlow::ref::serializeNpy(const NpyArray &array) {
  const DtypeInfo *info = findDtype(array.dtype);
  if (!info)
    return Status::error("cannot write unsupported dtype '" + array.dtype +
                         "'");
  Expected<int64_t> count = checkedNumElements(array.shape);
  if (!count)
    return count.status;
  const size_t have = info->isFloat ? array.f.size() : array.i.size();
  if (static_cast<int64_t>(have) != *count)
    return Status::error("shape " + shapeToString(array.shape) + " needs " +
                         std::to_string(*count) + " values but the array has " +
                         std::to_string(have));

  std::string shapeText = "(";
  for (size_t d = 0; d < array.shape.size(); ++d)
    shapeText += (d ? ", " : "") + std::to_string(array.shape[d]);
  shapeText += array.shape.size() == 1 ? ",)" : ")"; // Python's 1-tuple
  const std::string dict = "{'descr': '" + std::string(info->name) +
                           "', 'fortran_order': False, 'shape': " + shapeText +
                           ", }";

  // Pad with spaces so that the data starts on a 64-byte boundary, as NumPy
  // does; the header ends with '\n'. Version 2.0 only when the header length
  // does not fit in 2 bytes.
  const size_t lenBytes = dict.size() + 1 + 64 > 0xFFFF ? 4 : 2;
  const size_t unpadded = 6 + 2 + lenBytes + dict.size() + 1;
  const std::string header =
      dict + std::string((64 - unpadded % 64) % 64, ' ') + "\n";

  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(lenBytes == 2 ? 1 : 2));
  out.push_back(0);
  storeLE(out, header.size(), static_cast<unsigned>(lenBytes));
  out += header;

  const uint64_t bits = 8 * info->size;
  if (info->isFloat) {
    for (float v : array.f) {
      if (info->size == 4) {
        uint32_t raw;
        std::memcpy(&raw, &v, 4);
        storeLE(out, raw, 4);
      } else {
        double d = v;
        uint64_t raw;
        std::memcpy(&raw, &d, 8);
        storeLE(out, raw, 8);
      }
    }
    return out;
  }
  const IntType range =
      info->isBool ? IntType::i1()
                   : IntType(static_cast<unsigned>(bits), info->isSigned);
  for (size_t e = 0; e < array.i.size(); ++e) {
    int64_t v = array.i[e];
    if (!range.contains(v))
      return Status::error("value " + std::to_string(v) + " at flat index " +
                           std::to_string(e) + " does not fit dtype " +
                           info->name);
    storeLE(out, static_cast<uint64_t>(v), info->size);
  }
  return out;
}

Status qlow::ref::writeNpy(const std::string &path, const NpyArray &array) {
  Expected<std::string> bytes = serializeNpy(array);
  if (!bytes)
    return bytes.status.withContext(path);
  // Write beside the target and rename, so that a reader never sees a partial
  // file and a failed write leaves no file behind.
  const std::string tmp = path + ".tmp";
  std::FILE *file = std::fopen(tmp.c_str(), "wb");
  if (!file)
    return Status::error("cannot open '" + tmp + "' for writing");
  bool ok = std::fwrite(bytes->data(), 1, bytes->size(), file) == bytes->size();
  ok = std::fflush(file) == 0 && ok;
  ok = std::fclose(file) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return Status::error("error writing '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::error("cannot rename '" + tmp + "' to '" + path + "'");
  }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Tensor conversion
//===----------------------------------------------------------------------===//

Expected<std::string> qlow::ref::npyDtypeFor(IntType type) {
  if (!type.isValid())
    return Status::error("no .npy dtype for invalid integer type " +
                         type.str());
  if (type.bits == 1)
    return std::string(type.isSigned ? "|i1" : "|b1");
  if (type.bits <= 8)
    return std::string(type.isSigned ? "|i1" : "|u1");
  std::string size = std::to_string(type.bits / 8);
  return std::string("<") + (type.isSigned ? "i" : "u") + size;
}

Expected<Tensor> qlow::ref::npyToTensor(const NpyArray &array) {
  const DtypeInfo *info = findDtype(array.dtype);
  if (!info)
    return Status::error("unsupported dtype '" + array.dtype + "'");
  Tensor t;
  if (info->isFloat) {
    t = Tensor::makeFloat(array.shape, array.f);
  } else {
    IntType type =
        info->isBool ? IntType::i1() : IntType(8 * info->size, info->isSigned);
    if (!type.isValid()) // u64 is not readable, but keep the check total.
      return Status::error("dtype '" + array.dtype + "' has no qlow type");
    t = Tensor::makeInt(array.shape, type, array.i);
  }
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(t));
  return t;
}

Expected<NpyArray> qlow::ref::tensorToNpy(const Tensor &tensor) {
  QLOW_REF_RETURN_IF_ERROR(verifyTensor(tensor));
  NpyArray array;
  array.shape = tensor.shape();
  if (tensor.type.isFloat()) {
    array.dtype = "<f4";
    array.f = tensor.f;
    return array;
  }
  Expected<std::string> dtype = npyDtypeFor(tensor.type.intType);
  if (!dtype)
    return dtype.status;
  array.dtype = *dtype;
  array.i = tensor.i;
  return array;
}
