package train

// Mutation audit (issue #19). Each line is a one-line change to the product
// that was applied by hand, the named test run (it failed), and the change
// reverted. The script that did it is not kept: each row says the edit.
//
//	mutation                                             file                       caught by
//	prototype target not sharpened (s·c, not s·c/T)      train/student.go           TestPrototypeTargetsHandValues, TestStudentStepWiring
//	unnormalised W_T rows fed to the target              train/student.go           TestStudentStepWiring
//	ε negated in the mean-entropy term                   nn/acr.go                  TestPrototypeLossHandValues (nn)
//	α ignored (HR weight 1/B)                            train/student.go           TestStudentStepWiring
//	simsiam targets from replica 0's rows                train/student.go           TestStudentStepWiring
//	AdaFace margin sign flipped                          train/loop.go (adaMargin)  TestStudentMarginPerPolicyAndHead
//	1−r in the resolution policy                         train/student.go           TestStudentMarginPerPolicyAndHead
//	θ+g<0 clamp removed                                  nn/head.go (Target)        TestTargetHandValues (nn)
//	LR view used as the gallery                          train/evaluate.go          TestEvaluationWiring
//	cluster score on HR for every view                   train/evaluate.go          TestEvaluationWiring
//	no-op flip TTA (flipImages copies)                   train/evaluate.go          TestEvaluationWiring
//	mean entropy per replica (no Gather)                 train/student.go           TestStudentStepIsTheSameForAnyReplicaCount
//	predictor biases named so they get weight decay      nn/acr.go                  TestBiasesOfEveryLayerAreNotDecayed (nn)
//	agreement floor dropped                              train/student.go           TestAgreementMarginHandValues
//	support backward without the entropy term            nn/acr.go                  TestSupportLossGradientMatchesFiniteDifferences (nn)
//	support prediction not summed per class              nn/acr.go                  TestSupportLossHandValues (nn)
//	support target not sharpened                         train/student.go           TestSupportTargetsHandValues
//	data.eval overlap not checked                        train/data.go              TestEvaluationSetOverlappingTrainingIsRefused
