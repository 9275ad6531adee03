/**
 * The public API of ebpf-wasm: named re-exports only, nothing defined here.
 *
 * Importing this module does not load Binaryen: the JIT is loaded on the first `Runtime.load(..., {engine:
 * 'jit'})`.
 */

// Errors
export { BpfError, InvalidProgramError, ExecutionError, InternalError, VerifierError } from './errors.js';
export type { InvalidProgramCode, ExecutionErrorCode, VerifierErrorCode, VerifierDiagnostic, VerifierRegister } from './errors.js';

// ISA: the opcode table, the IR, bytecode and assembly both ways
export { OPCODES, CLASS, type OpSpec, type Syntax, type Group } from './isa/spec.js';
export type {
  Insn, InsnKind, Reg, Width, Size, Operand, AluOp, JmpOp, Cond, AtomicOp, LddwSrc, EndianOrder, CallTarget,
} from './isa/insn.js';
export { makeProgram, insnAt, type Program } from './isa/program.js';
export { decode, parseHex, type DecodeOptions } from './isa/decode.js';
export { encode, toHex } from './isa/encode.js';
export { assemble } from './isa/asm.js';
export { disassemble, disassembleInsn, type DisassembleOptions } from './isa/disasm.js';

// Execution: the contract both engines implement, and the reference interpreter
export {
  STACK_FRAME_SIZE, MAX_CALL_DEPTH, STACK_SIZE, RESERVED_LOW, UnwindSignal, frameTop, withWasmHelper, wasmHelperOf, withoutMemoryWrites, writesMemory, withExactWasmForm, hasExactWasmForm,
  type Region, type HelperFn, type HelperTable, type HelperEnv, type ExecRequest, type Executable,
  type WasmHelper, type WasmHelperShape, type WasmArgCheck,
} from './exec.js';
export type { PacketContext, PacketEngine, PacketBinding } from './packet.js';
export { Interpreter } from './interp/interpreter.js';
export {
  Stepper, StepperExecutable, type StepEvent, type InstructionEvent, type DoneEvent, type FaultEvent, type RegisterChange,
  type MemoryWrite, type HelperCall, type JumpInfo, type StepEffects, type StepEventBase, type StepperOptions, type StepperRunOptions, type StepperStop,
} from './debug/stepper.js';
export { formatEvent, formatHelperCall, describeEffects, type TraceFormat } from './debug/trace.js';

// Runtime: memory, engines, loading and running programs
export {
  Runtime, LoadedProgram, type RuntimeOptions, type LoadOptions, type RunOptions, type RunResult,
} from '../runtime/runtime.js';
export { ENGINES, ALL_ENGINES, type EngineName } from '../runtime/engines.js';

// Maps: one WebAssembly implementation serving programs, the JS API and workers
export {
  MapRegistry, attachMaps, type MapDefinition, type MapTypeName, type MapFor, type MapAreaOptions, type MapLayout,
  type SharedMaps, type CreateAllOptions,
} from '../runtime/maps/registry.js';
export {
  BpfMap, KeyedMap, KeyValueMap, PerCpuMap, MapOfMaps, ProgArray, QueueMap, BloomFilter, RingBuffer,
  type AnyMap, type MapInfo, type UpdateFlags, type RecordsOptions,
} from '../runtime/maps/map.js';
export { MapError, type MapErrnoCode, type MapMisuseCode } from '../runtime/maps/errors.js';
export { codecs, type Codec, type CodecName, type CodecLike } from '../runtime/maps/codecs.js';
export { relocateMaps } from '../runtime/maps/relocate.js';
export { mapHelpers, checkPointer } from '../runtime/maps/helpers.js';
export { mapHandle, HANDLE_TAG, MAP_HELPER, MAP_EXPORT_NAMES, BPF_UPDATE, BPF_RB, type MapExports } from '../runtime/maps/abi.js';
export { instantiateMaps, mapsModule } from '../runtime/maps/module.js';

// The verifier: proves programs safe, explains rejections, hands the JIT its facts
export { verify, type VerifyOptions, type VerifiedProgram, type StateAt } from './verifier/verify.js';
export { renderLog } from './verifier/log.js';
export { HELPERS, opaqueHelper, helpersForType, type HelperProto, type ArgKind, type RetKind } from './verifier/helpers.js';
export {
  XDP_MD, SK_BUFF_SOCKET, SK_BUFF_TC, PROGRAM_TYPES, contextLayout, programTypeOfSection,
  type ProgramType, type ContextLayout, type CtxField,
} from './verifier/context.js';

// ELF objects from clang -target bpf, and their BTF
export {
  loadElf, selectProgram, lineInfoAt, BPF_MAP_TYPE, BPF_F, LIBBPF_PIN, mapTypeName,
  type ElfObject, type ElfProgram, type ElfFunction, type LineInfo, type MapSpec, type MapInitialValue,
  type LoadElfOptions, type ProgramSelector,
} from './elf/loader.js';
export { parseBtf, type Btf, type BtfType } from './elf/btf.js';

// The bpf_conformance suite
export { parseDataFile, testProgram, loadSuite, conformanceDir, type DataTest, type Suite } from './conformance/data.js';
export { CONFORMANCE_HELPERS } from './conformance/helpers.js';

// Real programs: ELF objects loaded into a runtime, run XDP-style
export {
  loadObject, BpfObject, BpfProgram, XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT, XDP_ACTION_NAMES,
  packetContextOf, type LoadObjectOptions, type PacketMeta, type ProgramCode,
} from '../runtime/object.js';
export { attachFilter, type AttachFilterOptions, type SocketFilter } from '../runtime/dgram.js';

// Helpers, tail calls and workers
export { STD_HELPER, type StandardHelperOptions } from '../runtime/helpers/standard.js';
export type { HelperDefinition, CustomArg } from '../runtime/helpers/custom.js';
export { MAX_TAIL_CALLS } from '../runtime/tailcall.js';
export { WorkerPool, PoolProgram, type PoolOptions, type PoolLoadOptions } from '../runtime/workers/pool.js';
export { BatchExecutionError, type PacketBatch, type PacketOptions } from '../runtime/filter.js';

// Classic BPF and pcap
export {
  type ClassicInsn, type ClassicReason, ClassicProgramError, BPF_MEMWORDS, BPF_MAXINSNS,
} from './cbpf/insn.js';
export { checkClassic, CLASSIC_OPCODES } from './cbpf/check.js';
export {
  decodeClassic, encodeClassic, parseClassic, parseClassicD, parseClassicDd, parseClassicDdd, classicTextForm,
  type ClassicReadOptions, type ClassicTextForm,
} from './cbpf/decode.js';
export { formatClassic, formatClassicDd, formatClassicDdd } from './cbpf/print.js';
export { classicToEbpf, readsLength, type ClassicConvertOptions } from './cbpf/convert.js';
export { PcapError, type PcapErrorCode } from './pcap/errors.js';
export {
  readCapture, readCaptureBatches, decodeCapture, CaptureParser, type CapturePacket, type CaptureInterface, type CaptureFormat,
  type CaptureSource, type ReadCaptureOptions,
} from './pcap/reader.js';
export { encodePcap, PcapWriter, openPcapFile, type PcapWritePacket, type PcapWriteOptions, type PcapSink } from './pcap/writer.js';

// tcpdump (pcap-filter) expressions compiled straight to eBPF
export {
  compileFilter, parseFilter, FilterSyntaxError, FILTER_ACCEPT, SUPPORTED_LINK_TYPES,
  type CompileFilterOptions, type FilterErrorCode, type Filter,
} from './pcap-filter/index.js';
