# cmake -DINPUT=file -DOUTPUT=file.cc -DSYMBOL=name -P EmbedText.cmake
# Writes a C++ source defining `std::string_view snakepit::internal::<SYMBOL>()`
# that returns the text of INPUT, so a data file shared with the Python
# package is compiled into the library rather than looked up at run time.
file(READ "${INPUT}" _text)
set(_delim "spembed")  # at most 16 characters
string(FIND "${_text}" ")${_delim}\"" _clash)
if(NOT _clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )${_delim}\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/EmbedText.cmake. Do not edit.\n"
  "#include <string_view>\n\n"
  "namespace snakepit::internal {\n\n"
  "std::string_view ${SYMBOL}() {\n"
  "  static constexpr std::string_view kText = R\"${_delim}(${_text})${_delim}\";\n"
  "  return kText;\n"
  "}\n\n"
  "}  // namespace snakepit::internal\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
