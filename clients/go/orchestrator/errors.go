package orchestrator

import (
	"regexp"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrorDetails is what the orchestrator says about a failed call: the canonical code and the google.rpc
// details it sends in the `grpc-status-details-bin` trailer.
type ErrorDetails struct {
	Code    codes.Code
	Message string
	// Reason is ErrorInfo.reason in UPPER_SNAKE_CASE (e.g. MISSING_TEMPLATE_VARIABLES); "" when absent.
	Reason   string
	Metadata map[string]string
	// FieldViolations maps each bad field's path (e.g. variables.requirement) to what is wrong with it.
	FieldViolations map[string]string
	// RetryDelay is RetryInfo's advice: wait this long before trying again (HasRetryDelay says it was sent).
	RetryDelay    time.Duration
	HasRetryDelay bool
}

// Details decodes err (any error a generated client returned) into ErrorDetails.
func Details(err error) ErrorDetails {
	st := status.Convert(err)
	d := ErrorDetails{
		Code:            st.Code(),
		Message:         st.Message(),
		Metadata:        map[string]string{},
		FieldViolations: map[string]string{},
	}
	for _, detail := range st.Details() {
		switch v := detail.(type) {
		case *errdetails.ErrorInfo:
			d.Reason = v.GetReason()
			for key, value := range v.GetMetadata() {
				d.Metadata[key] = value
			}
		case *errdetails.BadRequest:
			for _, violation := range v.GetFieldViolations() {
				d.FieldViolations[violation.GetField()] = violation.GetDescription()
			}
		case *errdetails.RetryInfo:
			d.RetryDelay, d.HasRetryDelay = v.GetRetryDelay().AsDuration(), true
		}
	}
	return d
}

var wordStart = regexp.MustCompile(`([a-z])([A-Z])`)

// CanonicalName spells a code the way gRPC's specification does: codes.InvalidArgument -> INVALID_ARGUMENT.
func CanonicalName(code codes.Code) string {
	if code == codes.Canceled {
		return "CANCELLED"
	}
	return strings.ToUpper(wordStart.ReplaceAllString(code.String(), "${1}_${2}"))
}
