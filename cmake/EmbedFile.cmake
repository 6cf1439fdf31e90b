# cmake -DINPUT=file -DOUTPUT=file.c|file.cpp -DSYMBOL=name -P EmbedFile.cmake
# Writes a source, valid C and C++, defining `const char SYMBOL[]` with C
# linkage: the file's bytes and a terminating NUL, hidden from the plugin's
# exports.
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n  " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "/* Generated from ${INPUT}; do not edit. */\n"
  "#ifdef __cplusplus\nextern \"C\"\n#endif\n"
  "__attribute__((visibility(\"hidden\"))) const char ${SYMBOL}[] = {\n  ${bytes}0x00};\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
