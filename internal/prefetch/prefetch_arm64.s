#include "textflag.h"

// func Line(p unsafe.Pointer)
TEXT ·Line(SB), NOSPLIT|NOFRAME, $0-8
	MOVD	p+0(FP), R0
	PRFM	(R0), PLDL1KEEP
	RET

// func Line3(p, q, r unsafe.Pointer)
TEXT ·Line3(SB), NOSPLIT|NOFRAME, $0-24
	MOVD	p+0(FP), R0
	MOVD	q+8(FP), R1
	MOVD	r+16(FP), R2
	PRFM	(R0), PLDL1KEEP
	PRFM	(R1), PLDL1KEEP
	PRFM	(R2), PLDL1KEEP
	RET
