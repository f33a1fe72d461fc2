//! Execution traces in the format of Xerox's trace2/trace3. STUB
