// The grammar of .pipe files: imports, components and pipelines.
//
// Only the words that start a declaration are reserved. Attribute and setting
// names (`image`, `code`, `mini_batch_size`, ...) are plain names that the
// AST builder checks, so that a misspelt one gets a did-you-mean and a port
// may be called `code` or `image`.
grammar Pipe;

file : (importDecl | componentDecl | pipelineDecl)* EOF ;

importDecl
  : IMPORT target=STRING AS alias=name                     # importPath
  | IMPORT dotted (AS alias=name)?                          # importStd
  ;

dotted : name ('.' name)* ;

componentDecl
  : PARALLEL? COMPONENT name '{' componentItem* '}' ;

componentItem
  : portDecl
  | attribute
  ;

portDecl
  : kind=(IN | OUT | PARAM) name ':' typeRef ('=' defaultValue=literal)?
    constraint? description=strings?
  ;

typeRef : name optional='?'? ;

constraint
  : IN rangeBounds                                          # rangeConstraint
  | IN '{' (literal (',' literal)* ','?)? '}'              # enumConstraint
  ;

rangeBounds : lo=signedNumber? '..' hi=signedNumber? ;

signedNumber : INT | FLOAT ;

// `image "x"`, `job pytorch`, `resources { ... }`, `command "a" "b"`.
attribute : word (block | value) ;

word : IDENT ;

block : '{' (setting ','?)* '}' ;

// `key: value`, `key { ... }`, or a bare flag (`gpu`).
setting
  : name ':' value                                          # valueSetting
  | name block                                              # blockSetting
  | name                                                    # flagSetting
  ;

value
  : strings                                                 # stringValue
  | scalar                                                  # scalarValue
  | name '(' strings ')'                                    # dataValue
  | name ('.' name)?                                        # nameValue
  | '[' (value (',' value)* ','?)? ']'                      # listValue
  ;

// One token: a default or an enum member (a description may follow it).
literal : STRING | TEXT_BLOCK | scalar ;

scalar : INT | FLOAT | UNIT_NUMBER | TRUE | FALSE ;

strings : (STRING | TEXT_BLOCK)+ ;

pipelineDecl
  : PIPELINE name '(' (pipelineInput (',' pipelineInput)* ','?)? ')'
    ('->' '(' (pipelineOutput (',' pipelineOutput)* ','?)? ')')?
    '{' pipelineItem* '}'
  ;

pipelineInput
  : name (':' typeRef)? ('=' defaultValue=literal)? constraint?
    description=strings?
  ;

pipelineOutput : name (':' typeRef)? description=strings? ;

pipelineItem
  : step
  | attribute
  ;

// `t = train(data: p.clean) with { ... }`, or a pipeline output assignment
// `model = t.model` (no argument list).
step
  : target=name '=' PARALLEL? callee=dotted
    (call='(' (argument (',' argument)* ','?)? ')')?
    (OVER over=name ':' overValue=value)?
    (WITH? block)?
  ;

argument : name ':' value ;

// Where a name cannot be mistaken for a keyword (after `.`, `in`/`out`/
// `param`, inside parentheses and blocks), keywords are names too: an output
// may be called `out`. `parallel`, `true` and `false` never are.
name
  : IDENT | IN | OUT | PARAM | OVER | WITH | AS | IMPORT | COMPONENT | PIPELINE
  ;

// --- lexer -------------------------------------------------------------------

IMPORT    : 'import' ;
AS        : 'as' ;
COMPONENT : 'component' ;
PIPELINE  : 'pipeline' ;
PARALLEL  : 'parallel' ;
IN        : 'in' ;
OUT       : 'out' ;
PARAM     : 'param' ;
OVER      : 'over' ;
WITH      : 'with' ;
TRUE      : 'true' ;
FALSE     : 'false' ;

IDENT : [a-zA-Z_] [a-zA-Z0-9_-]* ;

FLOAT
  : '-'? DIGITS '.' DIGITS EXPONENT?
  | '-'? DIGITS EXPONENT
  ;
INT : '-'? DIGITS ;
// `10kb`, `60s`, `1.5mb`: sizes and durations; the setting decides which.
UNIT_NUMBER : DIGITS ('.' DIGITS)? [a-zA-Z]+ ;

TEXT_BLOCK : '"""' .*? '"""' ;
STRING : '"' (ESC | ~["\\\r\n])* '"' ;

LINE_COMMENT  : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT : '/*' .*? '*/' -> channel(HIDDEN) ;
WS : [ \t\r\n]+ -> skip ;

// Anything else is one bad character; the builder reports it.
UNTERMINATED_STRING : '"' (ESC | ~["\\\r\n])* ;
BAD_CHAR : . ;

fragment DIGITS : [0-9]+ ;
fragment EXPONENT : [eE] [+-]? DIGITS ;
fragment ESC : '\\' . ;
