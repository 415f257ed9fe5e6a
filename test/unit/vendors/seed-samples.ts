/**
 * The vendor seeds' sample bodies, copied verbatim (whitespace included) from ../shared/seeds/.
 * Served as raw text by the MockAgent so the clients parse exactly what the vendors document.
 */

/** OOTO deepfake seed, "Successful Response (HTTP 200)". */
export const OOTO_DEEPFAKE_200 = `{
  "transactionId": "2f679199-aafe-4b05-a722-728615b6aca2",
  "result": {
    "deepfake": {
      "score": 0.9491408169269562,
      "fine": true
    },
    "quality": {
      "pitch": 5.798101723194122,
      "yaw": -2.267319895327091,
      "roll": -0.3308084886521101,
      "uniformity": {
        "value": 0.7976967765996249,
        "fine": true
      },
      "exposure": {
        "value": 0.6352452907096943,
        "fine": true
      },
      "contrast": {
        "value": 0.780912373462111,
        "fine": true
      },
      "flare": {
        "score": 0.026086460798978806,
        "fine": true
      },
      "blur": {
        "score": 0.000007942797310533933,
        "fine": true
      },
      "macroblocks": {
        "score": 8.378465921055067e-9,
        "fine": true
      },
      "distortion": {
        "score": 0.907139241695404,
        "fine": false
      },
      "occlusion": {
        "score": 0.0005318471812643111,
        "fine": true
      },
      "emotion": {
        "score": 0.020526384934782982,
        "fine": true
      },
      "leftEyeClosed": {
        "score": 0.004296362400054932,
        "fine": true
      },
      "rightEyeClosed": {
        "score": 0.000009238719940185547,
        "fine": true
      },
      "crfiqa": {
        "score": 0.5999192595481873,
        "fine": true
      }
    },
    "demography": {
      "age": 59,
      "gender": "male",
      "race": "latino hispanic"
    },
    "box": {
      "x": 655,
      "y": 1083,
      "w": 937,
      "h": 1210
    },
    "landmarks": [
      [
        912,
        1580
      ],
      [
        1344,
        1583
      ],
      [
        1125,
        1835
      ],
      [
        946,
        1996
      ],
      [
        1297,
        1999
      ]
    ]
  }
}`;

/** OOTO deepfake seed, "Error response (HTTP 400)" (engine code 5). */
export const OOTO_DEEPFAKE_400 = `{
  "transactionId": "efb66e50-4c87-493d-b026-543dacdbe314",
  "result": {
    "status": "error",
    "code": 5,
    "info": "can not detect face"
  }
}`;

/** OOTO identify seed, "Successful Response (HTTP 200)" (snake_case quality keys; age, gender, race inside quality). */
export const OOTO_IDENTIFY_200 = `{
"transactionId": "ce394cea-a3cf-4044-8ce8-54e398dda667",
"result": {
"templateId": "e85098dd-4667-4a91-a0a0-adf5b8e9336d",
"similarity": 1,
"face": {
"box": {
"x": 25,
"y": 275,
"w": 606,
"h": 761
},
"landmarks": [
[
230,
574
],
[
457,
567
],
[
369,
740
],
[
248,
802
],
[
444,
796
]
],
"liveness": {
"score": 0.8860905766487122,
"fine": true
},
"deepfake": {
"score": 0.9506649971008301,
"fine": true
},
"quality": {
"uniformity": {
"value": 0.7044515103338633,
"fine": true
},
"exposure": {
"value": 0.5734725113730128,
"fine": true
},
"contrast": {
"value": 0.5869247898479624,
"fine": true
},
"flare": {
"score": 0.997887909412384,
"fine": false
},
"blur": {
"score": 0.0012071678647771478,
"fine": true
},
"occlusion": {
"score": 0.8302246928215027,
"fine": false
},
"macroblocks": {
"score": 0.0000013804340142087312,
"fine": true
},
"emotion": {
"score": 0.0040520974434912205,
"fine": true
},
"right_eye_closed": {
"score": 0.9050158113241196,
"fine": false
},
"left_eye_closed": {
"score": 0.0009260773658752441,
"fine": true
},
"crfiqa": {
"score": 0.5428674221038818,
"fine": false
},
"distortion": {
"score": 0.3051091432571411,
"fine": true
},
"gender": "male",
"age": 62,
"race": "white",
"pitch": 17.443319857120514,
"yaw": 10.05310446023941,
"roll": 1.412617564201355
}
}
}
}`;

/** OOTO identify seed, "Error Response (HTTP 400)" (engine code 1). */
export const OOTO_IDENTIFY_400 = `{
"transactionId": "9191079a-4f80-4c8a-9a4b-528af2cfd3c4",
"result": {
"status": "error",
"code": 1,
"info": "photo should not be empty"
}
}`;

/** GLAIR seed, "200 - OK: Success, detect deepfake in the video input." (fake, 0.99768). */
export const GLAIR_FAKE_200 = `{ "read": { "deepfake": { "confidence": 0.99768, "value": "fake" } }, "reason": "File Successfully Read", "status": "SUCCESS" }`;

/** GLAIR seed, "200 - OK: Success, no deepfake in the video input." (real, 0.06415167450904846). */
export const GLAIR_REAL_200 = `{ "read": { "deepfake": { "confidence": 0.06415167450904846, "value": "real" } }, "reason": "File Successfully Read", "status": "SUCCESS" }`;

/** GLAIR seed, frames endpoint "Sample Response" (real, 0.06789). */
export const GLAIR_FRAMES_200 = `{ "read": { "deepfake": { "confidence": 0.06789, "value": "real" } }, "reason": "File Successfully Read", "status": "SUCCESS" }`;

/** GLAIR seed, "400 - Bad Request: Input video not found." */
export const GLAIR_400 = `{ "reason": "No file in request body", "status": "ERROR" }`;
