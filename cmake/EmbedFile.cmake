# cmake -DINPUT=file -DOUTPUT=file.c|file.cpp -DSYMBOL=name -P EmbedFile.cmake
# Writes a source, valid C and C++, defining `const char SYMBOL[]` with C
# linkage: the file's bytes and a terminating NUL, hidden from the plugin's
# exports. The bytes are written as "\xNN" escapes in string literals: an
# initialiser list of integers would be a narrowing error in C++ (and a
# warning in C) for every byte above 0x7f, such as UTF-8 text.
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "(................................)" "\\1;" hex "${hex}")  # 16 bytes a line
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" bytes "${hex}")
string(REPLACE ";" "\"\n  \"" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "/* Generated from ${INPUT}; do not edit. */\n"
  "#ifdef __cplusplus\nextern \"C\"\n#endif\n"
  "__attribute__((visibility(\"hidden\"))) const char ${SYMBOL}[] =\n  \"${bytes}\";\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
